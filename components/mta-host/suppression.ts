import { CRON_PATH, PATHS } from "./layout";
import { PLAIN_ADDRESS } from "./suppression-address";

/**
 * The host's suppression list: recipients the host will not send to again,
 * each with why and since when. Submission refuses them at RCPT with a 5xx
 * that names both (postfix.ts: check_recipient_access on the table below),
 * so the application learns at once instead of from a bounce later.
 *
 * The list is state, not configuration: `postforge-suppress`, a Python 3
 * tool (Debian 12 ships python3 in every image: cloud-init runs on it), is
 * its only writer. It keeps the entries in one JSON-lines file, renders the
 * Postfix table from them atomically and reloads Postfix; `export` prints
 * them for a backup or another host (`import` reads them back). A change
 * holds from Postfix's next fresh smtpd process, within a second or two of
 * the reload (one already waiting for a client serves that one session with
 * the old table).
 *
 * Where it lives, and why: on the instance's disk (Postfix reads it there,
 * and submission must not wait on a network call), mirrored to a DynamoDB
 * table of the host's own (MailHost: protected, point-in-time recovery,
 * encrypted with the host's KMS key), because the disk goes with the
 * instance and the list cannot be recreated. Every change is written
 * through to the table; one that cannot be (no network, throttled) is kept
 * as pending and retried by `sync` from cron. A new host (no list on disk)
 * starts from the table (`restore`, in the boot script), so a replacement
 * refuses exactly what the old host refused. DynamoDB rather than S3: table
 * names are the account's own (a bucket name is global, and one derived
 * from the host name could be taken by anyone first), and an entry is an
 * item, so a change writes one item, not the whole list.
 */

/** Why a recipient is on the list. */
export const SUPPRESSION_REASONS = ["hard-bounce", "soft-bounces", "complaint", "unsubscribe", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** The reply submission gives a suppressed recipient, per reason: 5.1.1 where the address is dead, 5.7.1 where its owner asked. */
export const SUPPRESSION_STATUS: Record<SuppressionReason, string> = {
  "hard-bounce": "5.1.1",
  "soft-bounces": "5.2.0",
  complaint: "5.7.1",
  unsubscribe: "5.7.1",
  manual: "5.7.1",
};

/** The DynamoDB table that keeps the host's list (one per host, in its region): a name of the account's own. */
export function suppressionTableName(hostname: string): string {
  return `postforge-${hostname.replace(/\./g, "-")}-suppression`;
}

/** The cron line: what the DynamoDB copy has not taken yet, and a restore that failed at boot, tried again. */
export function renderSuppressionCron(): string {
  return `# Rendered by Postforge: the suppression list's DynamoDB copy kept up (postforge-suppress sync).\n${CRON_PATH}\n*/5 * * * * root ${PATHS.suppressTool} sync\n`;
}

/** The tool, as the host runs it. */
export function renderSuppressTool(config: { hostname: string; awsRegion: string }): string {
  const statuses = Object.entries(SUPPRESSION_STATUS)
    .map(([reason, status]) => `    "${reason}": "${status}",`)
    .join("\n");
  return `#!/usr/bin/python3
"""postforge-suppress: the mail host's suppression list (rendered by Postforge).

  postforge-suppress add ADDRESS REASON [DETAIL]   REASON: ${SUPPRESSION_REASONS.join(", ")}
  postforge-suppress remove ADDRESS
  postforge-suppress list
  postforge-suppress export                        the entries as JSON lines, on stdout
  postforge-suppress import < FILE                 add the exported entries (kept: the older date)
  postforge-suppress restore                       a new host: the list from the DynamoDB table (boot script)
  postforge-suppress sync                          changes the table has not taken yet, written again (cron)

Submission refuses a listed recipient at RCPT: "550 <status> <address>:
Recipient address rejected: suppressed since <date> (<reason>: <detail>)".
"""
import datetime
import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile

LIST = "${PATHS.suppressionList}"
PENDING = "${PATHS.suppressionPending}"
RESTORE_NEEDED = "${PATHS.suppressionRestoreNeeded}"
MIRRORED = "${PATHS.suppressionMirrored}"
IN_STEP = "${PATHS.suppressionInStep}"
TABLE = "${suppressionTableName(config.hostname)}"
REGION = "${config.awsRegion}"
ACCESS = "${PATHS.suppressionAccess}"
POSTFIX_DIR = "${PATHS.postfixDir}"
STATUS = {
${statuses}
}
# Plain addresses only: nothing a Postfix table reads as syntax (a leading "#" is a comment there) or a shell as code.
ADDRESS = re.compile(r"${PLAIN_ADDRESS.source}")


def fail(message):
    print("postforge-suppress: " + message, file=sys.stderr)
    sys.exit(2)


def today():
    # POSTFORGE_TODAY: a fixed date for tests, as in postforge plan.
    return os.environ.get("POSTFORGE_TODAY") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def valid_date(text):
    try:
        return datetime.date.fromisoformat(text).isoformat() == text
    except (TypeError, ValueError):
        return False


def printable(text):
    # Printable ASCII only: the detail ends up in an SMTP reply.
    return re.sub(r"[^\\x20-\\x7e]+", " ", text).strip()[:200]


def checked(entry, where):
    # Every entry, from the list or an import, is checked whole before anything is written.
    if not isinstance(entry, dict):
        fail("%s: not an entry object" % where)
    address, reason, since, detail = entry.get("address"), entry.get("reason"), entry.get("since"), entry.get("detail", "")
    if not isinstance(address, str) or not ADDRESS.match(address.strip().lower()):
        fail("%s: address %r: must be a plain address such as someone@example.com" % (where, address))
    if reason not in STATUS:
        fail("%s: reason %r: must be one of %s" % (where, reason, ", ".join(STATUS)))
    if not isinstance(since, str) or not valid_date(since):
        fail("%s: since %r: must be a date YYYY-MM-DD" % (where, since))
    if not isinstance(detail, str):
        fail("%s: detail: must be text" % where)
    return {"address": address.strip().lower(), "reason": reason, "since": since, "detail": printable(detail)}


def load():
    entries = {}
    if os.path.exists(LIST):
        with open(LIST, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except ValueError:
                    fail("%s line %d is not JSON; fix or remove the line" % (LIST, number))
                entry = checked(raw, "%s line %d" % (LIST, number))
                entries[entry["address"]] = entry
    return entries


def write_atomically(path, text, mode):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".postforge.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def reply(entry):
    # One line of a Postfix access table: printable ASCII, no newline.
    detail = printable(entry.get("detail") or "")
    why = entry["reason"] + (": " + detail if detail else "")
    # Postfix writes "550 <status> <address>: Recipient address rejected: " before it.
    return "550 %s suppressed since %s (%s)" % (STATUS[entry["reason"]], entry["since"], why)


def save(entries, reload=True, changed=()):
    ordered = [entries[a] for a in sorted(entries)]
    # Both texts are made before either file is written.
    listing = "".join(json.dumps(e, sort_keys=True) + "\\n" for e in ordered)
    table = "".join("%s %s\\n" % (e["address"], reply(e)) for e in ordered)
    write_atomically(LIST, listing, 0o640)
    write_atomically(ACCESS, table, 0o644)
    if reload and os.environ.get("POSTFORGE_SUPPRESS_NO_RELOAD") != "1":
        # texthash: tables are read when a Postfix process starts; a reload starts fresh ones.
        done = subprocess.run(["postfix", "-c", POSTFIX_DIR, "reload"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            print("postforge-suppress: the list is saved, but postfix reload failed, so submission still uses the old table: " + done.stdout.strip(), file=sys.stderr)
            if changed:
                mirror(entries, set(changed))
            sys.exit(1)
    # Submission refuses first; the durable copy follows (a slow or unreachable DynamoDB delays nothing above).
    if changed:
        mirror(entries, set(changed))


def aws(*args):
    try:
        # Short timeouts: an outage leaves the change pending for sync, it does not hold the lock for minutes.
        return subprocess.run(["aws", *args, "--region", REGION, "--output", "json", "--cli-connect-timeout", "5", "--cli-read-timeout", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        # No AWS CLI (or not on PATH): the same as an unreachable DynamoDB, retried by sync.
        return subprocess.CompletedProcess(args, 127, "", str(error))


def item(entry):
    return {k: {"S": entry.get(k) or ""} for k in ("address", "reason", "since", "detail")}


def mirror(entries, addresses):
    """Write the changed addresses through to the table (put what is listed, delete what is not); what fails waits in PENDING."""
    pending = set(addresses)
    if os.path.exists(PENDING):
        with open(PENDING, encoding="utf-8") as f:
            pending |= {line.strip() for line in f if line.strip()}
    ordered = sorted(pending)
    failed = set()
    for start in range(0, len(ordered), 25):  # BatchWriteItem takes 25 requests at most
        batch = ordered[start:start + 25]
        requests = [{"PutRequest": {"Item": item(entries[a])}} if a in entries else {"DeleteRequest": {"Key": {"address": {"S": a}}}} for a in batch]
        done = aws("dynamodb", "batch-write-item", "--request-items", json.dumps({TABLE: requests}))
        if done.returncode != 0:
            failed |= set(batch)
            print("postforge-suppress: the list is saved here; the DynamoDB copy is behind and sync retries it: " + done.stderr.strip(), file=sys.stderr)
            continue
        unprocessed = json.loads(done.stdout or "{}").get("UnprocessedItems", {}).get(TABLE, [])
        for request in unprocessed:
            body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
            failed.add(body.get("address", {}).get("S", ""))
    if failed:
        write_atomically(PENDING, "".join(a + "\\n" for a in sorted(a for a in failed if a)), 0o640)
    else:
        if os.path.exists(PENDING):
            os.remove(PENDING)
        in_step()


def in_step():
    """The copy holds every change: the time is the SuppressionSyncAge metric's (postforge-mailops)."""
    if not os.path.exists(PENDING) and not os.path.exists(RESTORE_NEEDED) and os.path.exists(MIRRORED):
        write_atomically(IN_STEP, datetime.datetime.now(datetime.timezone.utc).isoformat() + "\\n", 0o644)


def restore(entries):
    """The table's entries merged into the list (the older date kept). On failure a marker stays, and sync tries again."""
    done = aws("dynamodb", "scan", "--table-name", TABLE)
    if done.returncode != 0:
        write_atomically(RESTORE_NEEDED, today() + "\\n", 0o640)
        fail("the DynamoDB copy %s could not be read, so this host's list may lack entries; sync retries every five minutes: %s" % (TABLE, done.stderr.strip()))
    restored = 0
    for number, raw in enumerate(json.loads(done.stdout or "{}").get("Items", []), 1):
        entry = checked({k: v.get("S", "") for k, v in raw.items()}, "%s item %d" % (TABLE, number))
        kept = entries.get(entry["address"])
        if kept is None or entry["since"] < kept["since"]:
            entries[entry["address"]] = entry
            restored += 1
    if os.path.exists(RESTORE_NEEDED):
        os.remove(RESTORE_NEEDED)
    in_step()
    return restored


def locked():
    # One writer at a time: two adds at once must not lose one.
    os.makedirs(os.path.dirname(LIST), mode=0o750, exist_ok=True)
    lock = open(LIST + ".lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def normalized(address):
    address = address.strip().lower()
    if not ADDRESS.match(address):
        fail("%r is not an address such as someone@example.com" % address)
    return address


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    command, args = argv[1], argv[2:]
    lock = locked() if command in ("add", "remove", "import", "render", "restore", "sync") else None
    entries = load()
    if command == "add":
        if len(args) < 2:
            fail("add needs ADDRESS REASON [DETAIL]")
        address, reason = normalized(args[0]), args[1]
        if reason not in STATUS:
            fail("reason %r: must be one of %s" % (reason, ", ".join(STATUS)))
        previous = entries.get(address)
        entries[address] = {"address": address, "reason": reason, "since": previous["since"] if previous else today(), "detail": printable(" ".join(args[2:]))}
        save(entries, changed=[address])
    elif command == "remove":
        if len(args) != 1:
            fail("remove needs ADDRESS")
        address = normalized(args[0])
        if address not in entries:
            fail("%s is not on the list" % address)
        del entries[address]
        save(entries, changed=[address])
    elif command == "list":
        for entry in sorted(entries.values(), key=lambda e: e["address"]):
            print("%s  %s  %s  %s" % (entry["address"], entry["since"], entry["reason"], entry.get("detail") or ""))
    elif command == "export":
        for address in sorted(entries):
            print(json.dumps(entries[address], sort_keys=True))
    elif command == "import":
        incoming = []
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError:
                fail("import line %d is not JSON" % number)
            incoming.append(checked(raw, "import line %d" % number))
        # Every line checked, then applied: a bad line changes nothing.
        changed = []
        for entry in incoming:
            kept = entries.get(entry["address"])
            if kept is None or entry["since"] < kept["since"]:
                entries[entry["address"]] = entry
                changed.append(entry["address"])
        save(entries, changed=changed)
    elif command == "render":
        # The boot script: the table exists (empty) before Postfix starts; Postfix is started after.
        save(entries, reload=False)
    elif command == "restore":
        # A new host (no list on disk), or one whose earlier restore failed; a host with its list keeps it.
        if os.path.exists(LIST) and not os.path.exists(RESTORE_NEEDED):
            print("postforge-suppress: the list is on disk already; kept", file=sys.stderr)
        else:
            restored = restore(entries)
            save(entries, reload=False)
            # The copy holds everything the list does now: no whole-list push needed.
            write_atomically(MIRRORED, today() + "\\n", 0o640)
            print("postforge-suppress: %d entries restored from %s" % (restored, TABLE), file=sys.stderr)
    elif command == "sync":
        if os.path.exists(RESTORE_NEEDED):
            restore(entries)
            save(entries)
        if not os.path.exists(MIRRORED):
            # Once per host: the whole list, so entries from before the copy existed (an upgrade) reach it too.
            mirror(entries, set(entries))
            if not os.path.exists(PENDING):
                write_atomically(MIRRORED, today() + "\\n", 0o640)
        elif os.path.exists(PENDING):
            mirror(entries, [])
        in_step()
    else:
        fail("unknown command %r; see postforge-suppress --help" % command)
    if lock:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;
}
