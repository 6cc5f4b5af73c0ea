import { PATHS } from "./layout";

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
 * Not yet: the list lives on the instance's disk, so a replaced host starts
 * with an empty one unless its export is imported; bounces and complaints do
 * not add to it by themselves yet.
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

/** The tool, as the host runs it. */
export function renderSuppressTool(): string {
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

Submission refuses a listed recipient at RCPT: "550 <status> <address>:
Recipient address rejected: suppressed since <date> (<reason>: <detail>)".
"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

LIST = "${PATHS.suppressionList}"
ACCESS = "${PATHS.suppressionAccess}"
POSTFIX_DIR = "${PATHS.postfixDir}"
STATUS = {
${statuses}
}
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def fail(message):
    print("postforge-suppress: " + message, file=sys.stderr)
    sys.exit(2)


def today():
    # POSTFORGE_TODAY: a fixed date for tests, as in postforge plan.
    return os.environ.get("POSTFORGE_TODAY") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def load():
    entries = {}
    if os.path.exists(LIST):
        with open(LIST, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
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
    # One line of a Postfix access table: no newline, nothing Postfix would read as another field.
    detail = re.sub(r"[\\r\\n\\t]+", " ", entry.get("detail") or "").strip()[:200]
    why = entry["reason"] + (": " + detail if detail else "")
    # Postfix writes "550 <status> <address>: Recipient address rejected: " before it.
    return "550 %s suppressed since %s (%s)" % (STATUS[entry["reason"]], entry["since"], why)


def save(entries, reload=True):
    ordered = [entries[a] for a in sorted(entries)]
    write_atomically(LIST, "".join(json.dumps(e, sort_keys=True) + "\\n" for e in ordered), 0o640)
    write_atomically(ACCESS, "".join("%s %s\\n" % (e["address"], reply(e)) for e in ordered), 0o644)
    if reload and os.environ.get("POSTFORGE_SUPPRESS_NO_RELOAD") != "1":
        # texthash: tables are read when a Postfix process starts; a reload starts fresh ones.
        subprocess.run(["postfix", "-c", POSTFIX_DIR, "reload"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    entries = load()
    if command == "add":
        if len(args) < 2:
            fail("add needs ADDRESS REASON [DETAIL]")
        address, reason = normalized(args[0]), args[1]
        if reason not in STATUS:
            fail("reason %r: must be one of %s" % (reason, ", ".join(STATUS)))
        previous = entries.get(address)
        entries[address] = {"address": address, "reason": reason, "since": previous["since"] if previous else today(), "detail": " ".join(args[2:])}
        save(entries)
    elif command == "remove":
        if len(args) != 1:
            fail("remove needs ADDRESS")
        address = normalized(args[0])
        if address not in entries:
            fail("%s is not on the list" % address)
        del entries[address]
        save(entries)
    elif command == "list":
        for entry in sorted(entries.values(), key=lambda e: e["address"]):
            print("%s  %s  %s  %s" % (entry["address"], entry["since"], entry["reason"], entry.get("detail") or ""))
    elif command == "export":
        for address in sorted(entries):
            print(json.dumps(entries[address], sort_keys=True))
    elif command == "import":
        for line in sys.stdin:
            if not line.strip():
                continue
            entry = json.loads(line)
            address = normalized(entry["address"])
            if entry.get("reason") not in STATUS or not re.match(r"^\\d{4}-\\d{2}-\\d{2}$", str(entry.get("since", ""))):
                fail("import: %s: needs a reason of %s and a since date YYYY-MM-DD" % (address, ", ".join(STATUS)))
            kept = entries.get(address)
            if kept is None or entry["since"] < kept["since"]:
                entries[address] = {"address": address, "reason": entry["reason"], "since": entry["since"], "detail": entry.get("detail") or ""}
        save(entries)
    elif command == "render":
        # The boot script: the table exists (empty) before Postfix starts; Postfix is started after.
        save(entries, reload=False)
    else:
        fail("unknown command %r; see postforge-suppress --help" % command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;
}
