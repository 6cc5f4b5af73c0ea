/**
 * Reading the reports receivers send back: DMARC aggregate reports (RFC 7489
 * and the `dmarc-2.0` namespace of RFC 9990), SMTP TLS reports (RFC 8460),
 * and their gzip and zip attachments, each with the limits that keep a
 * hostile one from costing more than it should. Pure.
 */
export { DMARC_2_NAMESPACE, parseAggregateReport, passedDmarc, ReportRefused, type AggregateRecord, type AggregateReport } from "./dmarc-aggregate";
export { DEFAULT_UNPACK_LIMITS, unpackReport, type UnpackLimits } from "./archive";
export { parseTlsReport, TLS_RESULT_TYPES, type TlsReport, type TlsReportPolicy } from "./tls-rpt";
export { parseFailureReport, type FailureReport } from "./failure";
export { DEFAULT_MESSAGE_BUDGET, readReportMail, type MailedReport, type MessageBudget, type ReportMail } from "./report-mail";
export { summarizeAggregate, summarizeTls, withReverseNames, type DomainDay, type ReverseNames, type SourceSummary, type TlsDomainDay } from "./summary";
export { dmarcEvidence, EVIDENCE_RULES, type DmarcEvidence } from "./evidence";
export { DEFAULT_XML_LIMITS, parseXml, XmlRefused, type XmlElement, type XmlLimits } from "./xml";
