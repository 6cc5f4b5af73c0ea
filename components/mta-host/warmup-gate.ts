import type { MailHostConfig } from "./config";
import { CRON_PATH, PATHS } from "./layout";
import { RECEIVER_GROUP_DOMAINS, receiverGroupOf } from "../sending/receiver-groups";
import { warmupSchedule, type RampStep } from "../sending/warmup-schedule";

/**
 * The warm-up enforced on the host: submission over today's cap for a
 * recipient's receiver group waits in Postfix's hold queue (accepted, never
 * bounced, never lost) and is released as the cap allows, by the date, with
 * no deploy.
 *
 * Why this mechanism, of what Debian 12 ships:
 * - Postfix's per-destination rate delay and concurrency pace mail to one
 *   domain; a warm-up caps a day's mail to a group of domains (Gmail's
 *   dozens, Microsoft's), and "other" is every domain at once. A rate delay
 *   of a day divided by the cap would also spread a 480-message day over 24
 *   hours, one every three minutes, when receivers judge the day's volume.
 * - postfwd (Debian: postfwd) counts with rate limits per sender or client,
 *   not per recipient-domain group with a cap read from a schedule, and
 *   answers over the network as a daemon of its own.
 * - So a small policy service of our own (Python 3, in every Debian image),
 *   started by Postfix itself (spawn(8): no daemon to supervise), run per
 *   submission session as the unprivileged `postforge` user. At RCPT it
 *   counts the recipient against its group's cap; over the cap it answers
 *   HOLD, which puts the whole message in the hold queue (a message to
 *   several groups waits for the one that is full) and lets the session go
 *   on. The same tool, from cron every minute as root, starts a new day's
 *   count at midnight UTC and releases held mail, oldest first, as each
 *   group's cap allows (postsuper -r: requeued through pickup, so it
 *   leaves at once, with a fresh queue lifetime, signed once). It releases only what
 *   it held (it keeps their queue IDs), never a message an operator held.
 *
 * A held message has been signed already (the milters ran at submission).
 * Counting is at admission, not at delivery: what the host lets into the
 * queue for a group today is what it sends that group today.
 */

/**
 * The schedule file the tool reads: one setting a line, so the policy, started per smtpd process,
 * needs no JSON parser (its import is a third of Python's start-up). Without a warm-up it says
 * `enabled no`, so a removed warm-up releases what it held.
 *
 *   enabled yes
 *   start 2026-12-01          day 1
 *   last 45                   the last capped day
 *   ramp gmail 1:480 2:530    each group's steps, day:dailyCap
 *   own example.com           the host's own domains (never counted)
 *   group gmail.com gmail     each domain not in "other" (built-in lists and extraDomains)
 */
export function renderWarmupSchedule(config: MailHostConfig): string {
  const head = "# The warm-up schedule as postforge-warmup reads it, rendered by Postforge from mailHost.warmup.";
  if (!config.warmup) return `${head}\nenabled no\n`;
  const schedule = warmupSchedule(config.warmup);
  const extra = schedule.extraDomains;
  const known = [...new Set([...Object.values(RECEIVER_GROUP_DOMAINS).flat(), ...Object.values(extra).flat()])].sort();
  const groups = known.flatMap((domain) => {
    const group = receiverGroupOf(domain, extra);
    return group === "other" ? [] : [`group ${domain} ${group}`];
  });
  const steps = (ramp: RampStep[]) => ramp.map((s) => `${s.day}:${s.dailyCap}`).join(" ");
  return [
    head,
    "enabled yes",
    `start ${schedule.startDate}`,
    `last ${schedule.lastDay}`,
    ...Object.entries(schedule.ramps).map(([g, ramp]) => `ramp ${g} ${steps(ramp)}`),
    ...[config.hostname, ...config.domains.map((d) => d.domain)].map((d) => `own ${d}`),
    ...groups,
    "",
  ].join("\n");
}

/** The Postfix service name of the policy (master.cf) and its socket as check_policy_service names it. */
export const WARMUP_POLICY_SERVICE = "postforge-warmup";

/** The cron line: every minute, a new day's count and the release of held mail. */
export function renderWarmupCron(): string {
  return `# Rendered by Postforge: the warm-up's new day and the release of held mail (postforge-warmup).\n${CRON_PATH}\n* * * * * root ${PATHS.warmupTool} release >/dev/null\n`;
}

/** The tool, as the host runs it. */
export function renderWarmupTool(): string {
  // -S: no site-packages (the standard library is all it uses), a quarter of Python's start-up.
  return `#!/usr/bin/python3 -S
"""postforge-warmup: the warm-up's daily caps on the mail host (rendered by Postforge).

  postforge-warmup policy    Postfix policy service (spawn): HOLD a submission over today's cap for a recipient's group
  postforge-warmup release   from cron, every minute: a new day's count, and held mail released as today's caps allow
  postforge-warmup status    today's caps, counts and the mail held, as JSON

The schedule is ${PATHS.warmupSchedule} (from the stack's mailHost.warmup); the day's counts and the
queue IDs held are in ${PATHS.warmupState}. A date is UTC; POSTFORGE_TODAY sets another (tests).
"""
# Few imports, and none heavy (no json, subprocess or tempfile on the policy's path): Postfix starts
# the policy per smtpd process, and Python's start-up is most of what it costs.
import datetime
import fcntl
import os
import sys
import time

SCHEDULE = "${PATHS.warmupSchedule}"
STATE_DIR = "${PATHS.warmupDir}"
STATE = "${PATHS.warmupState}"
POSTFIX_DIR = "${PATHS.postfixDir}"
# A held message's record outlives its absence from the queue this long: the DATA of a slow submission.
FORGET_AFTER_SECONDS = 600


def today():
    return os.environ.get("POSTFORGE_TODAY") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def parse_schedule(text):
    """The schedule file's lines (see renderWarmupSchedule in Postforge) as a dict."""
    schedule = {"enabled": False, "ramps": {}, "own": set(), "groups": {}}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        key = parts[0]
        if key == "enabled":
            schedule["enabled"] = parts[1] == "yes"
        elif key == "start":
            schedule["start"] = parts[1]
        elif key == "last":
            schedule["last"] = int(parts[1])
        elif key == "ramp":
            schedule["ramps"][parts[1]] = [tuple(int(n) for n in step.split(":")) for step in parts[2:]]
        elif key == "own":
            schedule["own"].add(parts[1])
        elif key == "group":
            schedule["groups"][parts[1]] = parts[2]
    return schedule


def load_schedule():
    try:
        with open(SCHEDULE, encoding="utf-8") as f:
            return parse_schedule(f.read())
    except FileNotFoundError:
        return parse_schedule("")


def caps_on(schedule, date):
    """Each group's cap on a date, or None when no cap holds (no warm-up, or the ramp is over). As warmupDayOn in Postforge."""
    if not schedule["enabled"]:
        return None
    day = (datetime.date.fromisoformat(date) - datetime.date.fromisoformat(schedule["start"])).days + 1
    if day > schedule["last"]:
        return None
    # Before the start date day 1's caps hold: a host that sends early is still new.
    effective = max(day, 1)
    caps = {}
    for group, steps in schedule["ramps"].items():
        cap = steps[0][1]
        for step_day, daily_cap in steps:
            if step_day <= effective:
                cap = daily_cap
        caps[group] = cap
    return caps


def group_of(schedule, address):
    """The receiver group of a recipient, or None for the host's own domains (local mail is not counted)."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    if domain in schedule["own"]:
        return None
    return schedule["groups"].get(domain, "other")


def parse_state(text):
    """The state file's lines: "day D", "admitted GROUP N", "held QUEUE-ID DAY AT GROUP=N,GROUP=N"."""
    data = {"admitted": {}, "held": {}}
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "day" and len(parts) == 2:
            data["day"] = parts[1]
        elif parts[0] == "admitted" and len(parts) == 3:
            data["admitted"][parts[1]] = int(parts[2])
        elif parts[0] == "held" and len(parts) == 5:
            groups = dict((g, int(n)) for g, n in (pair.split("=") for pair in parts[4].split(",") if pair))
            data["held"][parts[1]] = {"since": parts[2], "at": float(parts[3]), "groups": groups}
        else:
            raise ValueError("line %d: %r" % (number, line))
    return data


def render_state(data):
    lines = ["day %s" % data["day"]] if "day" in data else []
    lines += ["admitted %s %d" % (g, n) for g, n in sorted(data["admitted"].items())]
    for queue_id, h in sorted(data["held"].items()):
        lines.append("held %s %s %.3f %s" % (queue_id, h["since"], h.get("at", 0), ",".join("%s=%d" % gn for gn in sorted(h["groups"].items()))))
    return "".join(line + "\\n" for line in lines)


class State:
    """The day's counts and the messages held, under an exclusive lock while open."""

    def __enter__(self):
        os.makedirs(STATE_DIR, exist_ok=True)
        # Read-only is enough for flock, so the policy user can lock a lock file root (cron) created;
        # never through a symlink (the directory is the unprivileged user's).
        self.lock = os.open(os.path.join(STATE_DIR, "lock"), os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            fd = os.open(STATE, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, encoding="utf-8") as f:
                self.data = parse_state(f.read())
        except FileNotFoundError:
            self.data = {}
        except ValueError:
            # Never start over silently: the held messages' IDs would be lost and their mail never released.
            # The policy then defers submission (the application retries) until an operator looks.
            os.close(self.lock)
            raise RuntimeError("%s cannot be read; move it aside (held mail: postqueue -j, postsuper -H) to start a fresh count" % STATE)
        self.data.setdefault("admitted", {})
        self.data.setdefault("held", {})
        return self

    def start_day(self, date):
        if self.data.get("day") != date:
            self.data["day"] = date
            self.data["admitted"] = {}

    def save(self):
        # A fresh name, created exclusively (never an existing file or link), written, then renamed over the state.
        tmp = os.path.join(STATE_DIR, ".state.%d.%s" % (os.getpid(), os.urandom(4).hex()))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render_state(self.data))
            # On the open file, never by name: the directory is the unprivileged user's, who could swap the name.
            os.fchmod(f.fileno(), 0o644)
            if os.geteuid() == 0:
                # Root (cron) writes a file the policy, as the directory's owner, can replace in turn.
                owner = os.stat(STATE_DIR)
                os.fchown(f.fileno(), owner.st_uid, owner.st_gid)
        os.replace(tmp, STATE)

    def __exit__(self, *_):
        os.close(self.lock)


def policy():
    """Postfix's policy delegation protocol (SMTPD_POLICY_README) on stdin/stdout, one smtpd session."""
    schedule = load_schedule()
    counted = {}  # queue ID -> {group: recipients admitted} in this session, refunded if the message is held later
    request = {}
    for line in sys.stdin:
        line = line.rstrip("\\n")
        if line:
            name, _, value = line.partition("=")
            request[name] = value
            continue
        try:
            action = decide(schedule, request, counted)
        except Exception as error:  # noqa: BLE001 -- the session must get an answer; the log gets the reason
            import syslog

            syslog.syslog(syslog.LOG_ERR, "postforge-warmup: policy failed: %r" % (error,))
            action = "DEFER_IF_PERMIT 4.3.0 warm-up check failed on the mail host; try again later"
        sys.stdout.write("action=%s\\n\\n" % action)
        sys.stdout.flush()
        request = {}


def decide(schedule, request, counted):
    recipient, queue_id = request.get("recipient", ""), request.get("queue_id", "")
    if request.get("protocol_state") != "RCPT" or not recipient or not request.get("sasl_username"):
        return "DUNNO"
    group = group_of(schedule, recipient)
    if group is None:
        return "DUNNO"
    with State() as state:
        if "day" not in state.data:
            state.start_day(today())
        caps = caps_on(schedule, state.data["day"])
        held = state.data["held"].get(queue_id) if queue_id else None
        if held is not None:
            held["groups"][group] = held["groups"].get(group, 0) + 1
            state.save()
            return "DUNNO"
        admitted = state.data["admitted"]
        if caps is None or admitted.get(group, 0) < caps[group]:
            admitted[group] = admitted.get(group, 0) + 1
            if queue_id:
                mine = counted.setdefault(queue_id, {})
                mine[group] = mine.get(group, 0) + 1
            state.save()
            return "DUNNO"
        # Over the cap: the whole message waits; what this session counted for it is given back.
        groups = counted.pop(queue_id, {})
        for g, n in groups.items():
            admitted[g] = max(0, admitted.get(g, 0) - n)
        groups[group] = groups.get(group, 0) + 1
        if queue_id:
            state.data["held"][queue_id] = {"since": state.data["day"], "at": time.time(), "groups": groups}
        state.save()
        return "HOLD held by the warm-up: today's cap of %d messages for %s is reached; the message waits and is sent as the cap allows" % (caps[group], group)


def queue():
    import json
    import subprocess

    done = subprocess.run(["postqueue", "-c", POSTFIX_DIR, "-j"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        print("postforge-warmup: postqueue -j failed: " + done.stderr.strip(), file=sys.stderr)
        sys.exit(1)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def release():
    import subprocess

    schedule = load_schedule()
    with State() as state:
        state.start_day(today())
        # The new day is kept even if the queue cannot be read below.
        state.save()
        caps = caps_on(schedule, state.data["day"])
        admitted, held = state.data["admitted"], state.data["held"]
        listed = queue()
        in_queue = {m["queue_id"] for m in listed}
        on_hold = {m["queue_id"]: m for m in listed if m.get("queue_name") == "hold"}
        # Mail released or deleted by hand is no longer ours to count; mail held at RCPT whose DATA is still
        # arriving is in no queue yet, so only an entry missing for a while is forgotten.
        for queue_id in [q for q in held if q not in on_hold]:
            if queue_id in in_queue or time.time() - held[queue_id].get("at", 0) > FORGET_AFTER_SECONDS:
                del held[queue_id]
        released = []
        for message in sorted((on_hold[q] for q in held), key=lambda m: m.get("arrival_time", 0)):
            groups = {}
            for r in message.get("recipients", []):
                g = group_of(schedule, r.get("address", ""))
                if g is not None:
                    groups[g] = groups.get(g, 0) + 1
            if caps is not None and any(admitted.get(g, 0) + n > caps[g] for g, n in groups.items()):
                continue
            # Requeued (-r), not just released (-H): a requeued message gets a new queue file and so a new
            # maximal_queue_lifetime, so mail held for days cannot expire at its first retry; -r passes no
            # milter again (it stays signed once). Counted only once it is out of the hold queue; a failed
            # requeue is tried again next minute.
            done = subprocess.run(["postsuper", "-c", POSTFIX_DIR, "-r", message["queue_id"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                print("postforge-warmup: postsuper -r %s failed: %s" % (message["queue_id"], done.stdout.strip()), file=sys.stderr)
                continue
            for g, n in groups.items():
                admitted[g] = admitted.get(g, 0) + n
            released.append(message["queue_id"])
            del held[message["queue_id"]]
        state.save()
    if released:
        # Requeued mail waits in maildrop for pickup's next wakeup (a minute): wake it now.
        subprocess.run(["postkick", "-c", POSTFIX_DIR, "public", "pickup", "W"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("postforge-warmup: released %d held messages" % len(released), file=sys.stderr)


def status():
    import json

    schedule = load_schedule()
    with State() as state:
        day = state.data.get("day") or today()
        caps = caps_on(schedule, day)
        print(json.dumps({"day": day, "caps": caps, "admitted": state.data["admitted"], "held": state.data["held"]}, sort_keys=True))


def main(argv):
    commands = {"policy": policy, "release": release, "status": status}
    if len(argv) != 2 or argv[1] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    commands[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;
}
