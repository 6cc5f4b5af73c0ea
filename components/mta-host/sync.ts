import type { MailHostConfig } from "./config";
import { configManifestSecretName, CONFIG_MANIFEST_FORMAT } from "./config-manifest";
import { shellWord } from "./dovecot";
import { PATHS, type RenderedFile } from "./layout";

/**
 * What user-data installs so the host keeps itself configured: a script that
 * fetches the config manifest (./config-manifest.ts) with the instance role
 * and, when it changed since the last apply, writes its files and runs the
 * boot script in it; and a systemd timer that runs it every five minutes. A
 * configuration change (a key becoming active, a domain added, a limit
 * raised) then reaches the running host in place. Pure renderers.
 */

/**
 * Writes a manifest's files, each atomically with its owner and mode, after
 * checking it is this host's; removes what the previously applied manifest
 * wrote and this one does not. Arguments: manifest, hostname, previous manifest.
 */
export function renderWriteFilesScript(): string {
  return `#!/usr/bin/python3
"""Write the files of a Postforge mail-host config manifest, each atomically with its owner and mode."""
import grp
import json
import os
import pwd
import sys
import tempfile

FORMAT = "${CONFIG_MANIFEST_FORMAT}"


def load(path):
    with open(path, encoding="utf-8") as source:
        manifest = json.load(source)
    if manifest.get("format") != FORMAT:
        sys.exit(f"postforge-write-files: {path} is not a {FORMAT} manifest")
    return manifest


def main(path, hostname, previous=None):
    # The sync script runs under umask 077; directories made here must stay traversable by the
    # daemons' own users (opendkim, dovecot, postfix), and each file gets its mode explicitly.
    os.umask(0o022)
    manifest = load(path)
    if manifest.get("hostname") != hostname:
        sys.exit(f"postforge-write-files: {path} configures {manifest.get('hostname')!r}, not this host {hostname!r}")
    # Files the last applied manifest wrote and this one does not (a domain removed) go.
    if previous and os.path.exists(previous):
        keep = {entry["path"] for entry in manifest["files"]}
        for entry in load(previous)["files"]:
            if entry["path"] not in keep and os.path.isfile(entry["path"]):
                os.unlink(entry["path"])
                print(f"postforge-write-files: removed {entry['path']}", file=sys.stderr)
    for entry in manifest["files"]:
        target = entry["path"]
        user, group = entry["owner"].split(":")
        directory = os.path.dirname(target)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".postforge.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(entry["content"])
            os.chown(tmp, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
            os.chmod(tmp, int(entry["permissions"], 8))
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    print(f"postforge-write-files: {len(manifest['files'])} files written", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
`;
}

/** Tries of one configuration before the sync stops re-applying it (each try restarts the services). */
export const MAX_ATTEMPTS = 3;

/**
 * The sync script: fetches and decodes the config manifest and, when it changed
 * since the last apply, writes its files and runs its boot script, giving up on a
 * configuration after MAX_ATTEMPTS failures.
 */
export function renderSyncScript(config: MailHostConfig): string {
  return `#!/bin/bash
# Keep the Postforge mail host ${config.hostname} configured: fetch its config
# manifest from Secrets Manager with the instance role and, when it changed
# since the last apply, write its files and run its boot script. Holds no
# secret; run by cloud-init at first boot and by postforge-sync.timer after.
set -euo pipefail
umask 077
REGION=${config.awsRegion}
SECRET=${shellWord(configManifestSecretName(config.hostname))}
STATE=${PATHS.syncState}

log() { echo "postforge-sync: $*" >&2; }

install -d -m 0700 "$STATE"
# One apply at a time: the timer may fire while cloud-init's first run is still going.
exec 9>"$STATE/lock"
flock 9

raw=$(mktemp "$STATE/.raw.XXXXXX")
manifest=$(mktemp "$STATE/.manifest.XXXXXX")
trap 'rm -f "$raw" "$manifest"' EXIT
if ! aws secretsmanager get-secret-value --secret-id "$SECRET" --region "$REGION" --query SecretString --output text >"$raw"; then
  log "cannot read $SECRET in $REGION: does the instance role allow secretsmanager:GetSecretValue on it?"
  exit 1
fi
# Stored gzip-compressed and base64-encoded: Secrets Manager holds at most 64 KiB.
if ! base64 -d "$raw" | gunzip >"$manifest"; then
  log "$SECRET is not a gzip+base64 config manifest"
  exit 1
fi
digest=$(sha256sum "$manifest" | cut -d' ' -f1)
if [ "$(cat "$STATE/applied.sha256" 2>/dev/null || true)" = "$digest" ]; then
  exit 0
fi
# A configuration that keeps failing is not re-applied forever (each try restarts the services).
attempts=$(awk -v d="$digest" '$1 == d { print $2 }' "$STATE/attempts" 2>/dev/null || true)
attempts=$(( \${attempts:-0} + 1 ))
if [ "$attempts" -gt ${MAX_ATTEMPTS} ]; then
  log "configuration $digest failed ${MAX_ATTEMPTS} times; not applying it again until it changes (see journalctl -u postforge-sync)"
  exit 1
fi
echo "$digest $attempts" >"$STATE/attempts"
log "applying configuration $digest (attempt $attempts)"
${PATHS.writeFilesScript} "$manifest" ${config.hostname} "$STATE/applied.json"
${PATHS.bootScript}
cp "$manifest" "$STATE/applied.json"
echo "$digest" >"$STATE/applied.sha256"
rm -f "$STATE/attempts"
log "applied configuration $digest"
`;
}

/** The oneshot systemd service that runs the sync script. */
export function renderSyncService(): string {
  return `[Unit]
Description=Apply the Postforge mail host configuration from Secrets Manager
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${PATHS.syncScript}
# A hung AWS call or certbot must not stop every later apply.
TimeoutStartSec=30min
`;
}

/** The systemd timer that runs the sync service five minutes after boot and every five minutes after that. */
export function renderSyncTimer(): string {
  return `[Unit]
Description=Look for a new Postforge mail host configuration every five minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec=5min
RandomizedDelaySec=30s

[Install]
WantedBy=timers.target
`;
}

/** The files user-data writes: the sync machinery only; the configuration comes from the manifest. */
export function syncFiles(config: MailHostConfig): RenderedFile[] {
  return [
    { path: PATHS.writeFilesScript, content: renderWriteFilesScript(), owner: "root:root", permissions: "0700" },
    { path: PATHS.syncScript, content: renderSyncScript(config), owner: "root:root", permissions: "0700" },
    { path: PATHS.syncService, content: renderSyncService(), owner: "root:root", permissions: "0644" },
    { path: PATHS.syncTimer, content: renderSyncTimer(), owner: "root:root", permissions: "0644" },
  ];
}
