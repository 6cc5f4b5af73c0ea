import { BIMI_RULES } from "./bimi";
import { BULK_SENDER_RULES } from "./bulk-sender";
import { DKIM_RULES } from "./dkim";
import { DMARC_RULES } from "./dmarc";
import { HOST_RULES } from "./host";
import { MTA_STS_RULES } from "./mta-sts";
import { RECEIVING_RULES } from "./receiving";
import { REVERSE_DNS_RULES } from "./reverse-dns";
import type { AnyRule } from "./rule";
import { SPF_RULES } from "./spf";

/** Every rule, in the order the pack (and the README) lists them. */
export const ALL_RULES: AnyRule[] = [
  ...SPF_RULES,
  ...DKIM_RULES,
  ...DMARC_RULES,
  ...REVERSE_DNS_RULES,
  ...RECEIVING_RULES,
  ...MTA_STS_RULES,
  ...BIMI_RULES,
  ...HOST_RULES,
  ...BULK_SENDER_RULES,
];
