/**
 * Pure protocol modules: builders (intent → canonical records), parsers and
 * rules (value → findings). No Pulumi here; the same rules serve builders,
 * policy packs and `verify`.
 */
export * from "./spf";
export * from "./dmarc";
export * from "./dkim";
export * from "./mx";
export * from "./mta-sts";
export * from "./tls-rpt";
export * from "./bimi";
export * from "./caa";
export * from "./parked";
export { isDomainName, type DomainNameOptions } from "./common";
