/**
 * The receiver groups a warm-up schedule (./warmup.ts) can cap apart: the
 * mailbox providers that judge a new address on their own traffic (Amazon
 * SES's managed warm-up tracks each ISP apart for that reason), and everyone
 * else. A recipient's group is read from its domain alone, because that is
 * what Postfix's transport map keys on at delivery: a Google Workspace or
 * Microsoft 365 customer's own domain cannot be told from its name, so it is
 * in `other` unless listed in the schedule's `extraDomains`.
 *
 * The lists are the consumer domains of each provider, from Mozilla
 * Thunderbird's ISPDB (github.com/thunderbird/autoconfig, ispdb/
 * googlemail.com.xml, hotmail.com.xml, yahoo.com.xml and aol.com.xml at
 * c6ad7965, 2026-03-12), with the few more that validator.js's normalizeEmail
 * lists (v13.15.35). Organisational domains those files also carry (google.com,
 * nyu.edu), MX host names, and ISPs whose mail another provider hosts without
 * saying so (verizon.net, cox.net, att.net) are left out.
 */

export const RECEIVER_GROUPS = ["gmail", "microsoft", "yahoo", "other"] as const;
/** One of RECEIVER_GROUPS: gmail, microsoft, yahoo or other. */
export type ReceiverGroup = (typeof RECEIVER_GROUPS)[number];

/** What each group is, for the plan and the README. */
export const RECEIVER_GROUP_NAMES: Record<ReceiverGroup, string> = {
  gmail: "Gmail",
  microsoft: "Microsoft consumer (Outlook.com, Hotmail, Live, MSN)",
  yahoo: "Yahoo and AOL",
  other: "everyone else",
};

const suffixes = (base: string, tlds: string) => tlds.split(" ").map((tld) => `${base}.${tld}`);

/** The recipient domains of each provider group, lower-case. */
export const RECEIVER_GROUP_DOMAINS: Record<Exclude<ReceiverGroup, "other">, readonly string[]> = {
  gmail: ["gmail.com", "googlemail.com"],
  microsoft: [
    "hotmail.com",
    "live.com",
    "msn.com",
    "outlook.com",
    "passport.com",
    "windowslive.com",
    "livemail.tw",
    ...suffixes("outlook", "at be cl cz de dk es fr hu ie in it jp kr lv my ph pt sa sg sk co.id co.il co.nz co.th com.ar com.au com.br com.gr com.pe com.tr com.vn"),
    ...suffixes(
      "hotmail",
      "be ca cl cz de dk es fi fr gr hu id ie in it jp kr lt lv my nl no ph pt rs sa se sg sk co.id co.il co.in co.jp co.kr co.nz co.th co.uk co.za com.ar com.au com.br com.gr com.hk com.mx com.pe com.tr com.tw com.vn",
    ),
    ...suffixes("live", "at be ca cl cn de dk es eu fi fr hk ie in it jp nl no ru se co.jp co.kr co.uk co.za com.ar com.au com.mx com.my com.ph com.pt com.sg"),
  ],
  yahoo: [
    "yahoo.com",
    ...suffixes("yahoo", "ca de es fr in it se co.in co.nz co.uk com.ar com.au com.br com.mx"),
    "ymail.com",
    "myyahoo.com",
    "rocketmail.com",
    "aol.com",
    "aim.com",
    ...suffixes("aol", "de es fr it se co.nz co.uk com.ar com.au com.br com.mx"),
    "netscape.net",
    "netscape.com",
    "compuserve.com",
    "cs.com",
    "wmconnect.com",
  ],
};

const GROUP_OF_DOMAIN = new Map<string, ReceiverGroup>(
  (Object.entries(RECEIVER_GROUP_DOMAINS) as [ReceiverGroup, readonly string[]][]).flatMap(([group, domains]) => domains.map((d) => [d, group] as const)),
);

/**
 * The group of a recipient domain (or address), with a schedule's own
 * additions (`extraDomains`: a Workspace customer's domain as gmail, say).
 */
export function receiverGroupOf(recipient: string, extraDomains: Partial<Record<ReceiverGroup, readonly string[]>> = {}): ReceiverGroup {
  const domain = recipient.slice(recipient.lastIndexOf("@") + 1).toLowerCase().replace(/\.$/, "");
  for (const group of RECEIVER_GROUPS) if (extraDomains[group]?.includes(domain)) return group;
  return GROUP_OF_DOMAIN.get(domain) ?? "other";
}
