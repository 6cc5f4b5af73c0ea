import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { main } from "../cli/postforge";
import { comparePlans, compareRecords, type DiffablePlan, type DiffRecord, type MeaningChange } from "../cli/diff/compare";
import { renderDiffMarkdown } from "../cli/diff/markdown";
import type { Plan, PlannedDkimKey } from "../cli/plan/plan";
import { rdataText, type AddressRecord, type DnsRecord, type TxtRecord } from "../components/dns/model";
import {
  bimiRecord,
  caaRecords,
  dmarcRecord,
  mtaStsPolicyText,
  mtaStsRecord,
  mxRecords,
  nullMxRecord,
  spfRecord,
  tlsRptRecord,
  type DmarcIntent,
  type MtaStsIntent,
  type SpfIntent,
} from "../components/dns/protocols";
import { txtRecord } from "../components/dns/protocols/common";
import { planExampleStack } from "./support/offline";
import { captureIo } from "./support/io";

// ------------------------------------------------------------------ plans built from the real builders

/** A plan as `postforge plan --json` writes it, holding the given records per zone. */
function planOf(
  domains: Record<string, DnsRecord[]>,
  extras: { stack?: string; dkimKeys?: PlannedDkimKey[]; mtaStsPolicies?: Record<string, string>; spfIncludeCosts?: Record<string, number> } = {},
): Plan {
  return {
    formatVersion: 1,
    project: "postforge",
    stack: extras.stack ?? "prod",
    resourceCount: 0,
    resourcesByType: {},
    mailHosts: [],
    policyViolations: [],
    domains: Object.entries(domains).map(([domain, records]) => ({
      domain,
      provider: "route53",
      records: records.map((r) => ({ ...r, resource: `${domain}-${r.name}-${r.type.toLowerCase()}`, value: rdataText(r) })),
    })),
    dkimKeys: extras.dkimKeys ?? [],
    mtaStsPolicies: extras.mtaStsPolicies ?? {},
    spfIncludeCosts: extras.spfIncludeCosts ?? {},
    warnings: [],
  };
}

const TTL = 3600;
const spf = (domain: string, intent: Partial<SpfIntent> = {}) => spfRecord(domain, { ip4: ["203.0.113.25"], all: "-all", ...intent }, TTL);
const dmarc = (domain: string, intent: Partial<DmarcIntent> = {}, mode: "rfc9989" | "rfc7489" = "rfc9989") =>
  dmarcRecord(domain, { p: "reject", rua: ["mailto:dmarc@example.com"], ...intent }, mode, TTL);
const mx = (domain: string, ...hosts: string[]) => mxRecords(domain, hosts.map((host, i) => ({ host, priority: 10 * (i + 1) })), TTL);
const address = (name: string, ip: string, type: "A" | "AAAA" = "A", ttl = TTL): AddressRecord => ({ name, type, ttl, purpose: "host-address", address: ip });
/** A managed key's record as the plan shows it before deploy. */
const dkim = (domain: string, selector: string, algorithm = "rsa", revoked = false): TxtRecord =>
  txtRecord(`${selector}._domainkey.${domain}`, `v=DKIM1; k=${algorithm}; p=${revoked ? "" : "<generated-at-deploy>"}`, TTL, "dkim");
const key = (domain: string, selector: string, state: string, algorithm = "rsa", bits = algorithm === "rsa" ? 2048 : 0): PlannedDkimKey => ({
  domain,
  selector,
  algorithm,
  bits,
  state,
  protected: state === "active",
});
const sts = (mode: MtaStsIntent["mode"]): MtaStsIntent => ({ mode, mx: ["mx1.example.com"], maxAge: 1209600 });

const diff = (base: Plan, head: Plan) => renderDiffMarkdown(comparePlans(base, head));
const meaning = (base: DiffablePlan, head: DiffablePlan, domain = "example.com"): [MeaningChange["severity"], string][] =>
  comparePlans(base, head).domains.find((d) => d.domain === domain)!.meaning.map((m) => [m.severity, m.message]);

// ------------------------------------------------------------------ realistic pairs, whole reports

describe("postforge diff: whole reports", () => {
  const exampleNet = () => [spf("example.net"), dmarc("example.net")];

  it("a DMARC rollout step and a new ESP: nothing weakens", () => {
    const base = planOf({
      "example.com": [spf("example.com"), dmarc("example.com", { p: "none" }), ...mx("example.com", "mx1.example.com"), address("mx1.example.com", "203.0.113.25")],
      "example.net": exampleNet(),
    });
    const head = planOf({
      "example.com": [
        spf("example.com", { includes: [{ domain: "sendgrid.net" }] }),
        dmarc("example.com", { p: "quarantine" }),
        ...mx("example.com", "mx1.example.com"),
        address("mx1.example.com", "203.0.113.25"),
      ],
      "example.net": exampleNet(),
    });
    assert.equal(
      diff(base, head),
      `## Postforge DNS diff: stack \`prod\`

**Summary:** 1 domain changed, 1 unchanged; records: 0 added, 2 changed, 0 removed; no change weakens authentication.

### \`example.com\` (changed)

**Changes**

- SPF lookups 0 → 1
- SPF adds include:sendgrid.net
- DMARC p: none → quarantine

| change | name | type | TTL | value |
| --- | --- | --- | --- | --- |
| changed | \`_dmarc.example.com\` | TXT | 3600 | \`"v=DMARC1; p=none; rua=mailto:dmarc@example.com"\` → \`"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"\` |
| changed | \`example.com\` | TXT | 3600 | \`"v=spf1 ip4:203.0.113.25 -all"\` → \`"v=spf1 ip4:203.0.113.25 include:sendgrid.net -all"\` |

Unchanged: \`example.net\`
`,
    );
  });

  it("a risky change: weakening listed first, then the rest, then the records", () => {
    const base = planOf(
      {
        "example.com": [
          txtRecord("example.com", "v=spf1 include:_spf.google.com include:spf.protection.outlook.com a:mx1.example.com mx -all", TTL, "spf"),
          dmarc("example.com", { sp: "reject", adkim: "s", aspf: "s" }),
          ...mx("example.com", "mx1.example.com"),
          mtaStsRecord("example.com", sts("enforce"), TTL),
          tlsRptRecord("example.com", { rua: ["mailto:tls@example.com"] }, TTL),
          bimiRecord("example.com", { logo: "https://brand.example.com/logo.svg" }, { intent: { p: "reject" }, mode: "rfc9989" }, TTL),
        ],
      },
      { mtaStsPolicies: { "example.com": mtaStsPolicyText(sts("enforce")) } },
    );
    // Hand-written SPF: the builder would refuse 11 lookups, which is the point of reviewing it.
    const head = planOf(
      {
        "example.com": [
          txtRecord(
            "example.com",
            "v=spf1 include:_spf.google.com include:spf.protection.outlook.com a:mx1.example.com mx include:_spf.salesforce.com include:sendgrid.net ~all",
            TTL,
            "spf",
          ),
          dmarc("example.com", { sp: "none", adkim: "r", aspf: "s", rua: [] }),
          ...mx("example.com", "mx1.example.com"),
          mtaStsRecord("example.com", sts("testing"), TTL),
          tlsRptRecord("example.com", { rua: ["mailto:tls-reports@example.com"] }, TTL),
        ],
      },
      { mtaStsPolicies: { "example.com": mtaStsPolicyText(sts("testing")) } },
    );
    assert.equal(
      diff(base, head),
      `## Postforge DNS diff: stack \`prod\`

**Summary:** 1 domain changed, 0 unchanged; records: 0 added, 4 changed, 1 removed; ⚠️ 6 changes weaken authentication.

### \`example.com\` (changed)

**⚠️ Weakens authentication**

- SPF lookups 8 → 11 (over the limit of 10)
- SPF all: -all → \\~all
- DMARC sp: reject → none
- DMARC adkim: s → r
- DMARC rua removed: no aggregate reports (was mailto:dmarc@example.com)
- MTA-STS mode: enforce → testing

**Other changes**

- SPF adds include:\\_spf.salesforce.com, include:sendgrid.net
- MTA-STS policy id fd45f86f96fc693ca2c9 → 483f7a2cac0599e4998d
- TLS-RPT rua: mailto:tls@example.com → mailto:tls-reports@example.com
- BIMI default removed (logo https://brand.example.com/logo.svg)

| change | name | type | TTL | value |
| --- | --- | --- | --- | --- |
| changed | \`_dmarc.example.com\` | TXT | 3600 | \`"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc@example.com"\` → \`"v=DMARC1; p=reject; sp=none; adkim=r; aspf=s"\` |
| changed | \`_mta-sts.example.com\` | TXT | 3600 | \`"v=STSv1; id=fd45f86f96fc693ca2c9"\` → \`"v=STSv1; id=483f7a2cac0599e4998d"\` |
| changed | \`_smtp._tls.example.com\` | TXT | 3600 | \`"v=TLSRPTv1; rua=mailto:tls@example.com"\` → \`"v=TLSRPTv1; rua=mailto:tls-reports@example.com"\` |
| removed | \`default._bimi.example.com\` | TXT | 3600 | \`"v=BIMI1; l=https://brand.example.com/logo.svg"\` |
| changed | \`example.com\` | TXT | 3600 | \`"v=spf1 include:_spf.google.com include:spf.protection.outlook.com a:mx1.example.com mx -all"\` → \`"v=spf1 include:_spf.google.com include:spf.protection.outlook.com a:mx1.example.com mx include:_spf.salesforce.com include:sendgrid.net ~all"\` |
`,
    );
  });

  it("a DKIM rotation step, a renumbered mail host and a new parked domain", () => {
    const base = planOf(
      {
        "example.com": [
          spf("example.com"),
          dmarc("example.com"),
          dkim("example.com", "pf2026q1", "rsa", true),
          dkim("example.com", "pf2026q2"),
          dkim("example.com", "pf2026q3"),
          ...mx("example.com", "mx1.example.com"),
          address("mx1.example.com", "203.0.113.25"),
        ],
        "example.net": exampleNet(),
      },
      { dkimKeys: [key("example.com", "pf2026q1", "revoked"), key("example.com", "pf2026q2", "retiring"), key("example.com", "pf2026q3", "active")] },
    );
    const head = planOf(
      {
        "example.com": [
          spf("example.com"),
          dmarc("example.com"),
          dkim("example.com", "pf2026q2", "rsa", true),
          dkim("example.com", "pf2026q3"),
          dkim("example.com", "pf2027q1"),
          ...mx("example.com", "mx1.example.com"),
          address("mx1.example.com", "203.0.113.26"),
          address("mx1.example.com", "2001:db8::26", "AAAA"),
        ],
        "example.net": exampleNet(),
        "example.org": [
          spfRecord("example.org", { all: "-all" }, TTL),
          dmarc("example.org", { sp: "reject", adkim: "s", aspf: "s" }),
          nullMxRecord("example.org", TTL),
          ...caaRecords("example.org", { issue: [";"] }, TTL),
        ],
      },
      { dkimKeys: [key("example.com", "pf2026q2", "revoked"), key("example.com", "pf2026q3", "active"), key("example.com", "pf2027q1", "pending")] },
    );
    assert.equal(
      diff(base, head),
      `## Postforge DNS diff: stack \`prod\`

**Summary:** 1 domain changed, 1 added, 1 unchanged; records: 6 added, 2 changed, 1 removed; no change weakens authentication.

### \`example.com\` (changed)

**Changes**

- DKIM selector pf2026q1 removed (was revoked)
- DKIM selector pf2026q2 revoked (was retiring)
- DKIM selector pf2027q1 added (rsa 2048 bits, pending)
- mx1.example.com A 203.0.113.25 → 203.0.113.26
- mx1.example.com AAAA (none) → 2001:db8::26

| change | name | type | TTL | value |
| --- | --- | --- | --- | --- |
| changed | \`mx1.example.com\` | A | 3600 | \`203.0.113.25\` → \`203.0.113.26\` |
| added | \`mx1.example.com\` | AAAA | 3600 | \`2001:db8::26\` |
| removed | \`pf2026q1._domainkey.example.com\` | TXT | 3600 | \`"v=DKIM1; k=rsa; p="\` |
| changed | \`pf2026q2._domainkey.example.com\` | TXT | 3600 | \`"v=DKIM1; k=rsa; p=<generated-at-deploy>"\` → \`"v=DKIM1; k=rsa; p="\` |
| added | \`pf2027q1._domainkey.example.com\` | TXT | 3600 | \`"v=DKIM1; k=rsa; p=<generated-at-deploy>"\` |

### \`example.org\` (added)

**Changes**

- SPF published: -all, 0 lookups
- DMARC published: p=reject
- MX: (none) → null MX (accepts no mail)
- CAA adds 0 issue ";"

| change | name | type | TTL | value |
| --- | --- | --- | --- | --- |
| added | \`_dmarc.example.org\` | TXT | 3600 | \`"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc@example.com"\` |
| added | \`example.org\` | CAA | 3600 | \`0 issue ";"\` |
| added | \`example.org\` | MX | 3600 | \`0 .\` |
| added | \`example.org\` | TXT | 3600 | \`"v=spf1 -all"\` |

Unchanged: \`example.net\`
`,
    );
  });

  it("identical plans of different stacks: says so, and that nothing changed", () => {
    const records = { "example.com": [spf("example.com"), dmarc("example.com")] };
    assert.equal(
      diff(planOf(records, { stack: "prod" }), planOf(records, { stack: "staging" })),
      [
        "## Postforge DNS diff: stack `prod` → `staging`",
        "",
        "> The plans are for different stacks (base `prod`, head `staging`): this compares two stacks, not two versions of one.",
        "",
        "**Summary:** no DNS changes (1 domain unchanged).",
        "",
        "Unchanged: `example.com`",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic: the order records and domains come in does not matter", () => {
    const base = planOf({ "example.com": [spf("example.com"), dmarc("example.com", { p: "none" })], "example.net": exampleNet() });
    const head = planOf({
      "example.net": [...exampleNet()].reverse(),
      "example.com": [...mx("example.com", "mx2.example.com", "mx1.example.com"), dmarc("example.com"), spf("example.com", { ip4: ["203.0.113.9", "203.0.113.8"] })],
    });
    const shuffled: Plan = { ...head, domains: [...head.domains].reverse().map((d) => ({ ...d, records: [...d.records].reverse() })) };
    assert.equal(diff(base, head), diff(base, shuffled));
    assert.equal(diff(base, head), diff(structuredClone(base), structuredClone(head)));
  });
});

// ------------------------------------------------------------------ each kind of change

describe("postforge diff: what a change means", () => {
  const only = (records: DnsRecord[], extras: Parameters<typeof planOf>[1] = {}) => planOf({ "example.com": records }, extras);

  it("SPF: the all qualifier, lookups over the limit, removal and syntax", () => {
    assert.deepEqual(meaning(only([spf("example.com")]), only([spf("example.com", { all: "~all" })])), [["weakens", "SPF all: -all → ~all"]]);
    assert.deepEqual(meaning(only([spf("example.com", { all: "~all" })]), only([spf("example.com")])), [["info", "SPF all: ~all → -all"]]);
    const noAll = only([txtRecord("example.com", "v=spf1 ip4:203.0.113.25", TTL, "spf")]);
    assert.deepEqual(meaning(only([spf("example.com")]), noAll), [["weakens", "SPF all: -all → (no all)"]]);
    // Already over the limit: going further over still weakens, coming down does not.
    const over = (extra: string) => only([txtRecord("example.com", `v=spf1 include:mailgun.org include:_spf.google.com ${extra} -all`, TTL, "spf")]);
    assert.deepEqual(meaning(over("a mx"), over("a mx mx:example.net")), [
      ["weakens", "SPF lookups 11 → 12 (over the limit of 10)"],
      ["info", "SPF adds mx:example.net"],
    ]);
    assert.deepEqual(meaning(over("a mx mx:example.net"), over("a mx")), [
      ["info", "SPF lookups 12 → 11 (still over the limit of 10)"],
      ["info", "SPF removes mx:example.net"],
    ]);
    assert.deepEqual(meaning(over("a mx"), over("a")), [
      ["info", "SPF lookups 11 → 10 (back within the limit of 10)"],
      ["info", "SPF removes mx"],
    ]);
    // An include whose cost no catalogue knows makes the count a lower bound.
    assert.deepEqual(meaning(only([spf("example.com")]), only([spf("example.com", { includes: [{ domain: "_spf.esp.example.com", lookups: 3 }] })])), [
      ["info", "SPF lookups 0 → ≥1 (includes of unknown cost counted as 1)"],
      ["info", "SPF adds include:_spf.esp.example.com"],
    ]);
    assert.deepEqual(meaning(only([spf("example.com"), dmarc("example.com")]), only([dmarc("example.com")])), [
      ["weakens", "SPF removed: receivers get no SPF result, so anyone may send as example.com"],
    ]);
    assert.deepEqual(meaning(only([spf("example.com")]), only([txtRecord("example.com", "v=spf1 ip4:203.0.113.999 -all", TTL, "spf")])), [
      ["weakens", 'SPF no longer parses ("ip4:203.0.113.999": expected ip4:<IPv4 address>[/0-32]): receivers return permerror'],
    ]);
  });

  it("SPF at a name other than the apex says where", () => {
    const helo = (value: string) => only([txtRecord("mail.example.com", value, TTL, "helo-spf")]);
    assert.deepEqual(meaning(helo("v=spf1 a -all"), helo("v=spf1 a ~all")), [["weakens", "SPF at mail.example.com all: -all → ~all"]]);
  });

  it("DMARC: policies, alignment, pct, testing and reports", () => {
    const pair = (before: Partial<DmarcIntent>, after: Partial<DmarcIntent>, mode: "rfc9989" | "rfc7489" = "rfc9989") =>
      meaning(only([dmarc("example.com", before, mode)]), only([dmarc("example.com", after, mode)]));
    assert.deepEqual(pair({ p: "reject" }, { p: "quarantine" }), [["weakens", "DMARC p: reject → quarantine"]]);
    assert.deepEqual(pair({ p: "none" }, { p: "reject" }), [["info", "DMARC p: none → reject"]]);
    // sp unset follows p: writing a weaker sp weakens, writing the same one does not.
    assert.deepEqual(pair({ p: "reject" }, { p: "reject", sp: "none" }), [["weakens", "DMARC sp: (unset = reject) → none"]]);
    assert.deepEqual(pair({ p: "reject" }, { p: "reject", sp: "reject" }), [["info", "DMARC sp: (unset = reject) → reject"]]);
    assert.deepEqual(pair({ sp: "reject", np: "reject" }, { sp: "reject", np: "quarantine" }), [["weakens", "DMARC np: reject → quarantine"]]);
    assert.deepEqual(pair({ aspf: "s" }, { aspf: "r" }), [["weakens", "DMARC aspf: s → r"]]);
    assert.deepEqual(pair({ adkim: "s" }, {}), [["weakens", "DMARC adkim: s → (unset = r)"]]);
    assert.deepEqual(pair({ adkim: "r" }, { adkim: "s" }), [["info", "DMARC adkim: r → s"]]);
    assert.deepEqual(pair({}, { t: true }), [["weakens", "DMARC t: (unset = n) → y"]]);
    assert.deepEqual(pair({ pct: 100 }, { pct: 25 }, "rfc7489"), [["weakens", "DMARC pct: 100 → 25"]]);
    assert.deepEqual(pair({ pct: 25 }, {}, "rfc7489"), [["info", "DMARC pct: 25 → (unset = 100)"]]);
    assert.deepEqual(pair({}, { rua: ["mailto:reports@example.com"] }), [["info", "DMARC rua: mailto:dmarc@example.com → mailto:reports@example.com"]]);
    assert.deepEqual(pair({}, { rua: [] }), [["weakens", "DMARC rua removed: no aggregate reports (was mailto:dmarc@example.com)"]]);
    assert.deepEqual(pair({ ruf: ["mailto:ruf@example.com"] }, {}), [["info", "DMARC ruf removed: no failure reports (was mailto:ruf@example.com)"]]);
    assert.deepEqual(meaning(only([dmarc("example.com")]), only([])), [["weakens", "DMARC removed: receivers apply no DMARC policy to example.com"]]);
    assert.deepEqual(meaning(only([]), only([dmarc("example.com", { p: "none" })])), [["info", "DMARC published: p=none"]]);
  });

  it("DMARC report authorizations for other domains", () => {
    const auth = txtRecord("example.org._report._dmarc.example.com", "v=DMARC1", TTL, "dmarc-report-auth");
    assert.deepEqual(meaning(only([auth]), only([])), [["info", "DMARC reports for example.org no longer authorized to example.com"]]);
    assert.deepEqual(meaning(only([]), only([auth])), [["info", "DMARC reports for example.org now authorized to example.com"]]);
  });

  it("DKIM: the last active key of an algorithm going away weakens; a rotation does not", () => {
    const keys = (q3e: string) => ({ dkimKeys: [key("example.com", "pf2026q3", "active"), key("example.com", "pf2026q3e", q3e, "ed25519")] });
    const records = (q3eRevoked: boolean) => [dkim("example.com", "pf2026q3"), dkim("example.com", "pf2026q3e", "ed25519", q3eRevoked)];
    assert.deepEqual(meaning(only(records(false), keys("active")), only(records(false), keys("retiring"))), [
      ["info", "DKIM selector pf2026q3e: active → retiring"],
      ["weakens", "No active ed25519 DKIM key left (was pf2026q3e)"],
    ]);
    assert.deepEqual(meaning(only(records(false), keys("active")), only([dkim("example.com", "pf2026q3")], { dkimKeys: [key("example.com", "pf2026q3", "active")] })), [
      ["info", "DKIM selector pf2026q3e removed (was active)"],
      ["weakens", "No active ed25519 DKIM key left (was pf2026q3e)"],
    ]);
    // A smaller RSA key taking over signing weakens even though each selector's step is ordinary.
    const rotation = (oldState: string, newState: string) =>
      only([dkim("example.com", "pf2026q3"), dkim("example.com", "pf2027q1")], { dkimKeys: [key("example.com", "pf2026q3", oldState, "rsa", 3072), key("example.com", "pf2027q1", newState, "rsa", 2048)] });
    assert.deepEqual(meaning(rotation("active", "pending"), rotation("retiring", "active")), [
      ["info", "DKIM selector pf2026q3: active → retiring"],
      ["info", "DKIM selector pf2027q1: pending → active"],
      ["weakens", "Smallest active RSA DKIM key 3072 → 2048 bits"],
    ]);
  });

  it("DKIM keys held elsewhere: sizes read from the published key, revocation from an empty p=", () => {
    const publicKey = (bits: number) =>
      (generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "der", type: "spki" }) as Buffer).toString("base64");
    const esp = (p: string) => only([txtRecord("esp2026._domainkey.example.com", `v=DKIM1; k=rsa; p=${p}`, TTL, "dkim")]);
    assert.deepEqual(meaning(esp(publicKey(2048)), esp(publicKey(1024))), [
      ["info", "DKIM selector esp2026: 2048 → 1024 bits"],
      ["weakens", "Smallest active RSA DKIM key 2048 → 1024 bits"],
    ]);
    assert.deepEqual(meaning(esp(publicKey(2048)), esp("")), [
      ["info", "DKIM selector esp2026 revoked (was published)"],
      ["weakens", "No active rsa DKIM key left (was esp2026)"],
    ]);
  });

  it("MX: removed entirely weakens; null MX and new hosts are noted", () => {
    assert.deepEqual(meaning(only(mx("example.com", "mx1.example.com")), only([])), [
      ["weakens", "MX removed entirely (was 10 mx1.example.com.): senders fall back to the address records"],
    ]);
    assert.deepEqual(meaning(only(mx("example.com", "mx1.example.com")), only([nullMxRecord("example.com", TTL)])), [
      ["info", "MX: 10 mx1.example.com. → null MX (accepts no mail)"],
    ]);
    assert.deepEqual(meaning(only([nullMxRecord("example.com", TTL)]), only(mx("example.com", "mx1.example.com", "mx2.example.com"))), [
      ["info", "MX: null MX → 10 mx1.example.com., 20 mx2.example.com."],
    ]);
  });

  it("MTA-STS: a weaker mode or no policy weakens; the id follows the policy", () => {
    const with_ = (mode: MtaStsIntent["mode"] | undefined) =>
      mode === undefined ? only([]) : only([mtaStsRecord("example.com", sts(mode), TTL)], { mtaStsPolicies: { "example.com": mtaStsPolicyText(sts(mode)) } });
    const codes = (b: Plan, h: Plan) => comparePlans(b, h).domains[0].meaning.map((m) => [m.code, m.severity]);
    assert.deepEqual(codes(with_("enforce"), with_("none")), [["mta-sts.mode", "weakens"], ["mta-sts.id", "info"]]);
    assert.deepEqual(codes(with_("testing"), with_("enforce")), [["mta-sts.mode", "info"], ["mta-sts.id", "info"]]);
    assert.deepEqual(meaning(with_("enforce"), with_(undefined)), [["weakens", "MTA-STS mode: enforce → (no policy)"]]);
    const moreHosts = only([mtaStsRecord("example.com", { ...sts("enforce"), mx: ["mx1.example.com", "*.example.net"] }, TTL)], {
      mtaStsPolicies: { "example.com": mtaStsPolicyText({ ...sts("enforce"), mx: ["mx1.example.com", "*.example.net"] }) },
    });
    assert.deepEqual(meaning(with_("enforce"), moreHosts).map(([s, m]) => [s, m.replace(/id \w+ → \w+/, "id A → B")]), [
      ["info", "MTA-STS policy mx: mx1.example.com → mx1.example.com, *.example.net"],
      ["info", "MTA-STS policy id A → B"],
    ]);
  });

  it("TLS-RPT, BIMI, CAA and host addresses are noted, never weakening", () => {
    const tls = (rua: string) => tlsRptRecord("example.com", { rua: [rua] }, TTL);
    assert.deepEqual(meaning(only([tls("mailto:tls@example.com")]), only([])), [["info", "TLS-RPT removed: no TLS failure reports (was rua=mailto:tls@example.com)"]]);
    const bimi = (logo: string) => bimiRecord("example.com", { logo }, { intent: { p: "reject" }, mode: "rfc9989" }, TTL);
    assert.deepEqual(meaning(only([bimi("https://brand.example.com/a.svg")]), only([bimi("https://brand.example.com/b.svg")])), [
      ["info", "BIMI default logo: https://brand.example.com/a.svg → https://brand.example.com/b.svg"],
    ]);
    assert.deepEqual(meaning(only([bimi("https://brand.example.com/a.svg")]), only([])), [["info", "BIMI default removed (logo https://brand.example.com/a.svg)"]]);
    const caa = (issue: string[]) => only(caaRecords("example.com", { issue, issuewild: [";"] }, TTL));
    assert.deepEqual(meaning(caa(["letsencrypt.org"]), caa(["amazon.com"])), [
      ["info", 'CAA adds 0 issue "amazon.com"'],
      ["info", 'CAA removes 0 issue "letsencrypt.org"'],
    ]);
    assert.deepEqual(meaning(caa(["letsencrypt.org"]), only([])), [["info", "CAA removed entirely: any certificate authority may issue"]]);
    assert.deepEqual(meaning(only([address("mail.example.com", "2001:db8::25", "AAAA")]), only([address("mail.example.com", "2001:db8::26", "AAAA")])), [
      ["info", "mail.example.com AAAA 2001:db8::25 → 2001:db8::26"],
    ]);
  });

  it("reads PTR records should a plan carry them, and ignores fields it does not know", () => {
    const withPtr = (target: string): DiffablePlan => ({
      stack: "prod",
      domains: [{ domain: "example.com", records: [{ name: "25.113.0.203.in-addr.arpa", type: "PTR", ttl: TTL, value: target }] }],
      dkimKeys: [],
      mtaStsPolicies: {},
    });
    assert.deepEqual(meaning(withPtr("mail.example.com."), withPtr("mx1.example.com.")), [["info", "25.113.0.203.in-addr.arpa PTR mail.example.com. → mx1.example.com."]]);
  });

  it("records: pairs by name, type and kind; a TTL-only change is a change; table cells are escaped", () => {
    const base = only([spf("example.com"), txtRecord("example.com", "site-verification=abc", TTL, "other"), address("mx1.example.com", "203.0.113.25")]);
    const head = only([
      spf("example.com", { all: "~all" }),
      txtRecord("example.com", "site-verification=a|b", TTL, "other"),
      address("mx1.example.com", "203.0.113.25", "A", 300),
    ]);
    const table = diff(base, head).split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| change |") && !l.startsWith("| ---"));
    // By name, type, then value: "abc" sorts before "a|b", and both before "v=spf1".
    assert.deepEqual(table, [
      '| removed | `example.com` | TXT | 3600 | `"site-verification=abc"` |',
      '| added | `example.com` | TXT | 3600 | `"site-verification=a\\|b"` |',
      '| changed | `example.com` | TXT | 3600 | `"v=spf1 ip4:203.0.113.25 -all"` → `"v=spf1 ip4:203.0.113.25 ~all"` |',
      "| changed | `mx1.example.com` | A | 3600 → 300 | `203.0.113.25` |",
    ]);
  });
});

// ------------------------------------------------------------------ the real example stack

describe("postforge diff: record changes", () => {
  // Records equal at the same place are set aside before pairing (a speed-up): the changes must not depend on
  // where records are. A plan's RRsets hold each value once (record-rules refuses duplicates), so the random
  // zones do too; small pools, so names, values and TTLs collide.
  it("are the same whatever the order of the records", () => {
    // mulberry32: a fixed seed, so a failure is the same on every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pick = <T>(list: T[]) => list[random(list.length)];
    const record = (): DiffRecord => {
      const type = pick(["MX", "TXT", "A"]);
      const value = type === "TXT" ? pick(['"v=spf1 -all"', '"v=spf1 mx -all"', '"v=DMARC1; p=none"', '"hello"', '"world"']) : pick(["1", "2", "3"]);
      return { name: pick(["example.com", "_dmarc.example.com", "www.example.com"]), type, ttl: pick([300, 3600]), value, ...(type === "TXT" ? { strings: [value.slice(1, -1)] } : {}) };
    };
    const rrsets = (records: DiffRecord[]) => new Set(records.map((r) => `${r.name} ${r.type} ${r.value}`)).size === records.length;
    let rounds = 0;
    let changed = 0;
    for (let attempt = 0; attempt < 3000 && rounds < 400; attempt++) {
      const base = Array.from({ length: random(8) }, record);
      // The head: the base with some records changed, dropped or added, so many stay equal in place.
      const head = base.map((r) => (random(4) === 0 ? record() : { ...r })).filter(() => random(6) !== 0);
      for (let extra = random(3); extra > 0; extra--) head.push(record());
      if (!rrsets(base) || !rrsets(head)) continue;
      rounds++;
      const inPlace = compareRecords(base, head);
      if (inPlace.length > 0) changed++;
      assert.deepEqual(compareRecords([...base].reverse(), head), inPlace, `round ${rounds}`);
      assert.deepEqual(compareRecords(base, [...head].reverse()), inPlace, `round ${rounds}`);
    }
    assert.equal(rounds, 400);
    assert.ok(changed > 300, `most rounds change something (${changed})`);
  });

  it("a TTL change of one value among equal ones is one change", () => {
    const a = (ttl: number, value: string): DiffRecord => ({ name: "example.com", type: "A", ttl, value });
    assert.deepEqual(compareRecords([a(300, "192.0.2.1"), a(300, "192.0.2.2")], [a(300, "192.0.2.1"), a(3600, "192.0.2.2")]), [
      { change: "changed", name: "example.com", type: "A", before: { ttl: 300, value: "192.0.2.2" }, after: { ttl: 3600, value: "192.0.2.2" } },
    ]);
  });
});

describe("postforge diff of the prod example stack", () => {
  let prod: Plan;
  before(async () => {
    prod = await planExampleStack("prod");
  });

  it("reports a DMARC downgrade as weakening and a new ESP include as a change", () => {
    const head = structuredClone(prod);
    const records = head.domains.find((d) => d.domain === "example.com")!.records;
    const edit = (name: string, edit: (value: string) => string) => {
      const record = records.find((r) => r.name === name && r.type === "TXT") as TxtRecord & { value: string };
      record.strings = [edit(record.strings.join(""))];
      record.value = rdataText(record);
    };
    edit("_dmarc.example.com", (v) => v.replace("p=reject", "p=quarantine"));
    edit("example.com", (v) => v.replace(" -all", " include:sendgrid.net -all"));
    const report = diff(prod, head);
    const lines = report.split("\n");
    assert.equal(lines[0], "## Postforge DNS diff: stack `prod`");
    assert.equal(lines[2], "**Summary:** 1 domain changed, 4 unchanged; records: 0 added, 2 changed, 0 removed; ⚠️ 1 change weakens authentication.");
    const section = lines.slice(lines.indexOf("### `example.com` (changed)"));
    assert.deepEqual(section.slice(0, 11), [
      "### `example.com` (changed)",
      "",
      "**⚠️ Weakens authentication**",
      "",
      "- DMARC p: reject → quarantine",
      "",
      "**Other changes**",
      "",
      // 2 ip4 (free) + _spf.google.com 4 + outlook 2 + _spf.esp.example.com 3 (declared in the stack config, carried by the plan) = 9.
      "- SPF lookups 9 → 10",
      "- SPF adds include:sendgrid.net",
      "",
    ]);
    assert.equal(lines.at(-2), "Unchanged: `example.co.uk`, `example.info`, `example.net`, `example.org`");
    assert.equal(diff(prod, structuredClone(prod)).split("\n")[2], "**Summary:** no DNS changes (5 domains unchanged).");
  });
});

// ------------------------------------------------------------------ the command


describe("postforge diff command", () => {
  let dir: string;
  let basePath: string;
  let headPath: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-diff-"));
    basePath = path.join(dir, "base.json");
    headPath = path.join(dir, "head.json");
    fs.writeFileSync(basePath, JSON.stringify(planOf({ "example.com": [spf("example.com"), dmarc("example.com")] })));
    // A field the diff does not know (say, from a later plan format) is never printed.
    const head = { ...planOf({ "example.com": [spf("example.com"), dmarc("example.com", { p: "none" })] }), futureField: "do-not-print-me" };
    fs.writeFileSync(headPath, JSON.stringify(head));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints the report and exits 0, even when the change weakens", async () => {
    const io = captureIo();
    assert.equal(await main(["diff", "--base", basePath, "--head", headPath], io), 0);
    assert.equal(io.err, "");
    assert.equal(io.out, diff(JSON.parse(fs.readFileSync(basePath, "utf8")), JSON.parse(fs.readFileSync(headPath, "utf8"))));
    assert.match(io.out, /- DMARC p: reject → none\n/);
    assert.doesNotMatch(io.out, /do-not-print-me/);
  });

  it("--out writes the report to a file instead", async () => {
    const io = captureIo();
    const out = path.join(dir, "report.md");
    assert.equal(await main(["diff", "--base", basePath, "--head", headPath, "--out", out], io), 0);
    assert.equal(io.out, "");
    assert.match(fs.readFileSync(out, "utf8"), /^## Postforge DNS diff: stack `prod`\n/);
  });

  it("refuses missing flags, unknown flags, unreadable files, bad JSON and non-plans with exit 2", async () => {
    const run = async (...args: string[]) => {
      const io = captureIo();
      const code = await main(["diff", ...args], io);
      return { code, err: io.err, out: io.out };
    };
    const missing = await run("--base", basePath);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /head = nothing: is required: pass the JSON file written by `postforge plan --stack NAME --json > FILE`, e\.g\. --head head\.json/);

    const unknown = await run("--base", basePath, "--head", headPath, "--stack", "prod");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /Unknown option '--stack'/);

    const absent = path.join(dir, "absent.json");
    const unreadable = await run("--base", absent, "--head", headPath);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.err, new RegExp(`--base = ${JSON.stringify(absent).replace(/[.\\/]/g, "\\$&")}: cannot read the plan \\(ENOENT\\); write it with`));

    const notJson = path.join(dir, "not.json");
    fs.writeFileSync(notJson, "## a Markdown report, not a plan\n");
    const bad = await run("--base", basePath, "--head", notJson);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--head = ".*not\.json": not JSON \(/);

    const otherFormat = path.join(dir, "v2.json");
    fs.writeFileSync(otherFormat, JSON.stringify({ formatVersion: 2, stack: "prod", domains: [] }));
    const wrong = await run("--base", otherFormat, "--head", headPath);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--base plan ".*v2\.json" is invalid:\n  - formatVersion = 2: must be 1/);
    assert.equal(wrong.out, "");

    // Every wrong field of a plan is named at once, down to the record.
    const broken = path.join(dir, "broken.json");
    const good = { name: "example.com", type: "MX", ttl: 300, value: "10 mx.example.com" };
    fs.writeFileSync(
      broken,
      JSON.stringify({ formatVersion: 1, stack: 7, domains: [{ domain: "example.com", records: [good, { ...good, ttl: "300" }, { ...good, strings: ["a", 1] }] }], dkimKeys: "none", mailHosts: [{ hostname: "mx" }] }),
    );
    const fields = await run("--base", broken, "--head", headPath);
    assert.equal(fields.code, 2);
    assert.equal(fields.out, "");
    for (const problem of [
      'stack = 7: must be a string',
      'domains[0].records[1].ttl = "300": must be a number',
      'domains[0].records[2].strings = ["a",1]: must be a list of strings',
      'dkimKeys = "none": must be a list',
      "mailHosts[0].instanceType = nothing: must be a string",
      "mailHosts[0].ingress = nothing: must be a list",
    ]) {
      assert.ok(fields.err.includes(`\n  - ${problem}`), `names ${problem}:\n${fields.err}`);
    }
    assert.doesNotMatch(fields.err, /records\[0\]/, "a right record is not named");
  });
});
