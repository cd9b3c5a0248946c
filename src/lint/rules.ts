/**
 * The rules of `evt lint`: id, default severity, what a finding means and how to fix it.
 */

/** How bad a finding is; `--fail-on` compares against it (error > warning > info). */
export type Severity = 'error' | 'warning' | 'info'

/** Rule ids, in the order findings are reported. */
export const RULE_IDS = [
  'command-on-event-topic',
  'event-type-not-past-tense',
  'key-not-aggregate',
  'aggregate-split',
  'missing-envelope-field',
  'duplicate-event-id',
  'occurred-after-append',
  'schema-less-payload',
  'version-drift',
  'causation-dangling',
  'dlq-without-origin',
] as const

/** One rule id. */
export type RuleId = (typeof RULE_IDS)[number]

/** A rule's description. */
export interface RuleInfo {
  id: RuleId
  severity: Severity
  /** One line: what a finding says. */
  summary: string
  /** One paragraph: why it matters and the fix. */
  explanation: string
}

/** Rank of a severity: error 3, warning 2, info 1. */
export function severityRank(s: Severity): number {
  return s === 'error' ? 3 : s === 'warning' ? 2 : 1
}

/** Every rule, by id. */
export const RULES: Readonly<Record<RuleId, RuleInfo>> = {
  'command-on-event-topic': {
    id: 'command-on-event-topic',
    severity: 'error',
    summary: 'an imperative type (a command) on an events topic',
    explanation:
      'An event is a past-tense fact its publisher does not expect anyone in particular to act on; a command (ProcessPayment, CreateShipment, send-email, …Command) is an instruction to one recipient. A command published on an events topic (named like *.events, or whose other types are facts) hides who owns the workflow: every subscriber may act on it, and the sender cannot know whether it was done. Fix: publish the fact that happened instead (InvoiceIssued, and let the mailer react to it), or send the command to its owner\'s commands topic. If the name is in fact a fact evt misreads, list it under lint.facts in the profile.',
  },
  'event-type-not-past-tense': {
    id: 'event-type-not-past-tense',
    severity: 'warning',
    summary: 'a type on an events topic that reads as neither a fact nor a command',
    explanation:
      'Types on an events topic should name what happened, as a past participle (OrderPlaced, order.placed, payment_captured, UserSignedUp). A noun (OrderSnapshot, Refund) or a state (Shipping) leaves consumers guessing whether it is a fact, a request or a document. Fix: rename it after the change it records (RefundIssued, ShippingStarted), or, when it is a state snapshot, move it to a state or changelog topic. Names evt misreads can be listed under lint.facts (or lint.commands) in the profile.',
  },
  'key-not-aggregate': {
    id: 'key-not-aggregate',
    severity: 'error',
    summary: 'the record key differs from the envelope\'s aggregate id',
    explanation:
      'Kafka orders records per partition, and the partition comes from the key. When the key is not the aggregate id (the subject the event is about), two events of one aggregate can land on different partitions and be consumed out of order, and compaction keeps the wrong record. Fix: key every record by its aggregate id (the seed envelope\'s aggregate_id, CloudEvents subject, the outbox aggregateid).',
  },
  'aggregate-split': {
    id: 'aggregate-split',
    severity: 'error',
    summary: 'one aggregate id on more than one partition of a topic',
    explanation:
      'Events of one aggregate must stay on one partition, or their order is lost. A split comes from keys that differ from the aggregate id, a partition count changed under a running system, or a producer with a custom partitioner. Fix: key by aggregate id with the default (murmur2) partitioner; after adding partitions, drain or re-key the topic before consumers rely on order again.',
  },
  'missing-envelope-field': {
    id: 'missing-envelope-field',
    severity: 'warning',
    summary: 'event id, type, occurred time or correlation id missing',
    explanation:
      'Consumers deduplicate by event id, route by type, order and measure by occurred time, and follow a request by correlation id (evt trace needs it). A record that follows an envelope convention (seed envelope, CloudEvents, framework or plain headers) without one of these, or a record without an envelope on a topic whose other records have one, cannot be handled like its neighbours. Fix: set the field in the producer\'s envelope (event_id, event_type, occurred_at, metadata.correlation_id; or ce_id, ce_type, ce_time, ce_correlationid).',
  },
  'duplicate-event-id': {
    id: 'duplicate-event-id',
    severity: 'warning',
    summary: 'the same event id twice on a topic',
    explanation:
      'A producer retry after a lost acknowledgement (without enable.idempotence), an outbox relay that re-sends, or a restarted batch writes the same event twice. Kafka delivers at least once anyway, so every consumer must be idempotent: keep processed event ids (or make the effect idempotent). Fix the producer too: enable.idempotence=true, transactions for read-process-write. Copies made by evt replay and evt dlq requeue, and dead-letter copies, are not counted.',
  },
  'occurred-after-append': {
    id: 'occurred-after-append',
    severity: 'warning',
    summary: 'occurred time after the broker timestamp (clock skew), or long before it (late publication)',
    explanation:
      'An event cannot happen after Kafka stored it: an occurred time later than the record timestamp by more than the tolerance (lint.skew, 1 minute) means the producer\'s clock is off, and time-based logic (windows, SLAs, evt trace delays) goes wrong. An occurred time far before the timestamp (lint.late, 1 hour) means late publication, e.g. a stuck outbox relay. Fix: sync clocks (NTP); watch the outbox relay\'s lag.',
  },
  'schema-less-payload': {
    id: 'schema-less-payload',
    severity: 'info',
    summary: 'values without registry framing or a schema / content-type hint, on a topic where others have one',
    explanation:
      'On a topic where most producers frame values with a schema registry id or say what the bytes are (content-type, ce_datacontenttype, ce_dataschema), a value without either is one consumers must guess: a producer that bypasses the registry, or an old one. Fix: produce through the registry serializer, or set a content-type header.',
  },
  'version-drift': {
    id: 'version-drift',
    severity: 'error',
    summary: 'a field of an older event_version missing in a newer one, or versions going backwards',
    explanation:
      'A newer version of one event type that drops a field every older record had breaks consumers that still read it: a breaking change published under the same type. Versions going backwards on a partition (v2, then v1) mean an old producer is still running. Fix: add fields, never remove or rename them within a type (publish a new type, or upcast in the consumer); retire old producers before the new version ships.',
  },
  'causation-dangling': {
    id: 'causation-dangling',
    severity: 'info',
    summary: 'a causation id that names no event seen in the window',
    explanation:
      'The causation id should be the event id of the message that caused this one. One that names no event in the window may point before the window (widen --since or -n), to a topic not linted, to a message that is not on Kafka (an HTTP request), or be wrong (a correlation id copied in its place). Informational: check that causation ids are event ids.',
  },
  'dlq-without-origin': {
    id: 'dlq-without-origin',
    severity: 'warning',
    summary: 'dead letters without origin (topic / partition / offset) headers',
    explanation:
      'A dead letter that does not say where it came from cannot be requeued to its topic, nor traced back to the failed delivery. Fix: use a dead-letter publisher that adds the origin headers (Spring\'s DeadLetterPublishingRecoverer: kafka_dlt-original-topic/-partition/-offset; Kafka Connect: errors.deadletterqueue.context.headers.enable=true; SmallRye: dead-letter-topic/-partition/-offset).',
  },
}

/** True for a rule id. */
export function isRuleId(text: string): text is RuleId {
  return (RULE_IDS as readonly string[]).includes(text)
}
