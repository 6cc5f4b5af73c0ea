/**
 * Sending operations, for programs and applications: the warm-up schedule,
 * the receiver groups, the readers of the delivery log, bounces (RFC 3464)
 * and complaints (RFC 5965), the suppression policy, and the RFC 8058
 * one-click unsubscribe URLs the mail host serves. Pure functions; the host
 * runs the same readers (postforge-mailops).
 */
export { defaultRamp, warmupDayOn, warmupSchedule, type RampStep, type WarmupDay, type WarmupSchedule } from "./warmup-schedule";
export { warmupSchema, type WarmupConfig, type WarmupInput } from "./warmup";
export { RECEIVER_GROUPS, receiverGroupOf, type ReceiverGroup } from "./receiver-groups";
export { parseDeliveryLog, parseDeliveryLine, type DeliveryResult } from "./delivery-log";
export { parseBounce, type DsnRecipient, type ParsedBounce } from "./dsn";
export { classifyBounce, HARD_REASONS, type BounceReason, type BounceVerdict } from "./bounce-class";
export { complaintAuthenticated, parseComplaint, type ComplaintReport } from "./arf";
export { decideSuppressions, SOFT_BOUNCE_LIMIT, SOFT_BOUNCE_WINDOW_DAYS, type SendingEvent, type SuppressionDecision, type SuppressionOutcome } from "./suppression-policy";
export { oneClickUnsubscribeHeaders, oneClickUnsubscribeUrl, recipientOfToken, unsubscribeToken } from "./one-click";
export { DNSBLS, dnsblQueryName, isPublicResolver, judgeDnsblAnswer, PUBLIC_RESOLVERS, type Dnsbl, type DnsblVerdict } from "./dnsbl";
export { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS, RATE_MINIMUM_VOLUME, RATE_WINDOW_DAYS, sendingRates, type JudgedRate, type RateThresholds, type SendingCounts } from "./rates";
