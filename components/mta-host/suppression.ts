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
import fcntl
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
# Plain addresses only: nothing a Postfix table reads as syntax (a leading "#" is a comment there) or a shell as code.
ADDRESS = re.compile(r"^[a-z0-9_%+=-][a-z0-9._%+=-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


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


def save(entries, reload=True):
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
            sys.exit(1)


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
    lock = locked() if command in ("add", "remove", "import", "render") else None
    entries = load()
    if command == "add":
        if len(args) < 2:
            fail("add needs ADDRESS REASON [DETAIL]")
        address, reason = normalized(args[0]), args[1]
        if reason not in STATUS:
            fail("reason %r: must be one of %s" % (reason, ", ".join(STATUS)))
        previous = entries.get(address)
        entries[address] = {"address": address, "reason": reason, "since": previous["since"] if previous else today(), "detail": printable(" ".join(args[2:]))}
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
        for entry in incoming:
            kept = entries.get(entry["address"])
            if kept is None or entry["since"] < kept["since"]:
                entries[entry["address"]] = entry
        save(entries)
    elif command == "render":
        # The boot script: the table exists (empty) before Postfix starts; Postfix is started after.
        save(entries, reload=False)
    else:
        fail("unknown command %r; see postforge-suppress --help" % command)
    if lock:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;
}
