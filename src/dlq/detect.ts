/**
 * Recognising dead-letter topics and dead-letter records.
 * Names and headers as written by Spring Kafka (DeadLetterPublishingRecoverer, retry topics),
 * Spring Cloud Stream, Kafka Connect, SmallRye/Quarkus and MassTransit (see MESSAGE-FORMATS.md).
 */
import type { RecordHeader } from '../record.ts'

/** Default DLQ topic name patterns: *.DLT, *-dlt, *.dlq, *.DLQ, *-dlq, dlq.*, *.dlq.v1, error.<topic>.<group>, dead-letter-topic-*. */
export const DEFAULT_DLQ_TOPIC_PATTERNS: RegExp[] = [
  /[.-]dlt$/i,
  /[.-]dlq$/i,
  /[.-]dlq\.v\d+$/i,
  /^dlq[.-]/i,
  /^error\.[^.]+.*\.[^.]+$/,
  /^dead-letter-topic-/,
  /[.-]dead-letter$/i,
]

/** True when the topic name looks like a dead-letter topic. */
export function isDlqTopic(topic: string, patterns: RegExp[] = DEFAULT_DLQ_TOPIC_PATTERNS): boolean {
  return patterns.some((p) => p.test(topic))
}

/** Header names (lower case) or prefixes that only dead-letter records carry. */
const DLQ_HEADER_PREFIXES = ['kafka_dlt-', '__connect.errors.', 'dead-letter-', 'x-exception-', 'mt-fault-']
const DLQ_HEADER_NAMES = new Set(['x-original-topic', 'mt-reason'])

/** True when a record carries dead-letter headers of any known framework. */
export function hasDlqHeaders(headers: RecordHeader[]): boolean {
  for (const h of headers) {
    const k = h.key.toLowerCase()
    if (DLQ_HEADER_NAMES.has(k)) return true
    for (const p of DLQ_HEADER_PREFIXES) if (k.startsWith(p)) return true
  }
  return false
}

/**
 * The topics a dead-letter topic's name says its records came from (its naming convention):
 * `orders.events-dlt`, `orders.events.DLQ`, `orders.events-dlq.v1`, `orders.events-dead-letter` →
 * `orders.events`; `dlq.orders.events`, `dead-letter-topic-orders.events` → `orders.events`;
 * `error.orders.events.billing` → `orders.events`. Empty for a name that follows no convention.
 */
export function conventionalSources(dlqTopic: string): string[] {
  const out = new Set<string>()
  const suffix = dlqTopic.match(/^(.+?)[._-](?:dlt|dlq(?:\.v\d+)?|dead-letter)$/i)
  if (suffix) out.add(suffix[1])
  const prefix = dlqTopic.match(/^(?:dlq[.-]|dead-letter-topic-)(.+)$/i)
  if (prefix) out.add(prefix[1])
  const error = dlqTopic.match(/^error\.(.+)\.[^.]+$/)
  if (error) out.add(error[1])
  return [...out]
}
