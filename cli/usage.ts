/**
 * Every command's help text, apart from the commands: `postforge --help` and
 * `postforge COMMAND --help` print them without loading a command's modules.
 */

export const PLAN_USAGE = `  postforge plan --stack NAME [--json] [--out DIR] [--policy-config FILE] [--profile bulk-sender] [--cwd DIR] [--jobs N] [--reports FILE]
      Run the stack program offline (no Pulumi CLI, credentials or network),
      print the DNS records and mail host \`pulumi up\` would create, and judge
      them with the policy pack (policies/). Exits 1 when a mandatory rule fails.
      --json prints the plan as JSON; --out DIR also writes one RFC 1035 zone
      file per domain. --policy-config takes the JSON file \`pulumi preview
      --policy-pack-config\` takes; --profile adds a shipped profile.
      A pattern (--stack 'estate-*') plans every matching stack, each in its
      own process, --jobs at a time (default: one per core); --json then
      prints {"formatVersion":1,"stacks":[plan, ...]}, --out DIR/<stack>/.
      --reports takes \`postforge reports --json\`: for each domain at p=none or
      p=quarantine, whether the last 14 days of DMARC reports support the
      next step (98% of at least 100 messages passing, none of ours failing),
      the unknown sources it would stop, and the exact stack-file change.
`;

export const DIFF_USAGE = `Usage:
  postforge diff --base BASE.json --head HEAD.json [--out FILE] [--across-stacks] [--reports FILE]
      Compare two plans written by \`postforge plan --json\` (say, the base
      branch's and a pull request's) and print a Markdown report of what the
      DNS change means for mail authentication, then the records that change.
      Both plans must be of the same project and stack, unless --across-stacks.
      Plans of several stacks (--stack 'PATTERN') are compared stack by stack,
      after the domains that change stack. --reports takes \`postforge reports
      --json\`: for each DMARC policy the change raises, whether the reports
      support that step (and which unknown senders it stops).
`;

export const VERIFY_USAGE = `  postforge verify --stack NAME|PATTERN [--resolver HOST:PORT] [--timeout MS] [--tls] [--dnsbl] [--json] [--cwd DIR]
  postforge verify --domain NAME [--domain NAME ...] [--dkim-selector S ...] [--dmarc-mode rfc9989|rfc7489]
                   [--resolver HOST:PORT] [--timeout MS] [--tls] [--dnsbl] [--json]
      Query DNS and check the live records: against the stack's plan (--stack), or
      against the standards alone (--domain). SPF is evaluated through includes,
      DMARC report authorization, FCrDNS, MTA-STS, TLS-RPT, BIMI and STARTTLS are
      checked. --tls also fetches MTA-STS policies and checks MX certificates.
      --dnsbl also checks the sending addresses (the plan's host, or the MX
      hosts) on Spamhaus ZEN, Barracuda, SpamCop, PSBL and Mailspike: a listing
      fails, a list's "cannot tell" (127.255.255.x, no answer) warns, and a
      public resolver gets a warning: use --resolver with your own.
      Exit 1 when any check fails. A pattern (--stack 'estate-*') verifies
      every matching stack, each in its own process, one per core at a time.
`;

export const SHARD_USAGE = `  postforge shard --estate FILE [--check] [--allow-moves] [--list] [--cwd DIR]
      Split an estate too large for one stack (README, "Large estates") into
      shard stacks: writes stacks/Pulumi.<prefix>-NNN.yaml for each. A domain
      stays in the stack that holds it; a new one goes where rendezvous hashing
      puts it, a mail host's domains and cross-referenced ones together. Then
      \`postforge plan|verify --stack '<prefix>-*'\` runs every shard.
      --check only reports files that would change (exit 1 if any).
      --list prints the shard stacks as a JSON list (a CI matrix) and writes nothing.
      --allow-moves places every domain afresh (after a shard count change:
      about 1/N move); move the resources with \`pulumi state move\` before
      deploying, or they are deleted and recreated.
`;

export const BOUNCES_USAGE = `  postforge bounces [--log FILE ...] [--dsn FILE ...] [--arf FILE ...] [--authserv-id NAME] [--reporter DOMAIN ...] [--year YYYY] [--json]
      Read what a mail host saw: Postfix's delivery log (--log, such as
      /var/log/postfix.log), bounce messages (--dsn) and complaint reports
      (--arf), each a file or a Maildir (the fbl@ mailbox's, say); judge every
      result that did not deliver hard
      or soft, and say which recipients to suppress and why (a hard bounce;
      messages given up on for a full mailbox on 3 days within 14; an abuse
      complaint from a feedback loop (Yahoo, Microsoft, Validity; --reporter
      adds one) that authenticated on arrival, as the host's own
      Authentication-Results with --authserv-id show), as one
      postforge-suppress import. --year dates log lines, which carry none
      (default: the last 12 months). --json prints the results and decisions.
`;

export const REPORT_USAGE = `  postforge report --summary FILE ... [--reports FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--html FILE] [--json]
      The sending report from what mail hosts recorded: each --summary is the
      output of \`postforge-mailops summary\` on a host (several hosts add up).
      Prints one line a day (submitted, delivered, deferred, hard and soft
      bounces, complaints, refusals, and the bounce and complaint rates over the
      14 days up to that day, as Amazon SES computes them, from 100 messages),
      then each receiver group's figures on the last day against the
      providers' thresholds. --html writes a self-contained page with charts
      (delivery, bounce and complaint rates per receiver group against the
      thresholds; the warm-up's cap against the volume), and with --reports
      (\`postforge reports --json\`) the receivers' DMARC pass share and TLS
      failures per domain over the same days. --json prints the report.
`;

export const REPORTS_USAGE = `  postforge reports [--maildir DIR ...] [--file FILE ...] [--authserv-id NAME] [--domain DOMAIN ...] [--our-source CIDR ...]
                    [--ours-from-spf] [--resolver HOST:PORT] [--no-ptr] [--json]
      DMARC aggregate reports (RFC 7489, and RFC 9990's dmarc-2.0) and SMTP TLS
      reports (RFC 8460), plain, gzip or zip, summed per domain and day: each
      source address with its reverse DNS name (PTR, through --resolver or
      the system's; --no-ptr skips it) and volume, DMARC pass (an aligned DKIM or SPF pass)
      and what receivers did, ours (--our-source: the hosts' addresses and
      the ranges of services that send for you) told apart from unknown; TLS
      sessions that succeeded and failed, by failure type and receiving MX.
      --ours-from-spf also takes as ours what each domain's published SPF
      record authorizes (the hosts it names, the includes it declares).
      --maildir reads the role mailboxes (dmarc-rua@, tls-rpt@): a message
      counts only if it authenticated on arrival (the host's own
      Authentication-Results, --authserv-id) and is about a --domain; the
      rest are set apart with the reason. --file reads report files you
      vouch for. --json prints the summary.
`;
