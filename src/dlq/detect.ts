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

/** The original topic named by dead-letter headers (Spring, Spring Cloud Stream, Connect, SmallRye), if any. */
export function dlqOriginalTopic(headers: RecordHeader[]): string | undefined {
  let found: string | undefined
  for (const h of headers) {
    const k = h.key.toLowerCase()
    if (h.value && (k === 'kafka_dlt-original-topic' || k === 'kafka_original-topic' || k === 'x-original-topic' || k === '__connect.errors.topic' || k === 'dead-letter-topic')) found = h.value.toString('utf8')
  }
  return found
}

/** The exception class and message of a dead-letter record, when its headers say. */
export function dlqFailure(headers: RecordHeader[]): { exception?: string; message?: string; cause?: string } {
  const out: { exception?: string; message?: string; cause?: string } = {}
  for (const h of headers) {
    if (!h.value) continue
    const k = h.key.toLowerCase()
    const v = h.value.toString('utf8')
    if (k === 'kafka_dlt-exception-fqcn' || k === 'x-exception-fqcn' || k === '__connect.errors.exception.class.name' || k === 'dead-letter-exception-class-name' || k === 'mt-fault-exceptiontype') out.exception = v
    else if (k === 'kafka_dlt-exception-message' || k === 'x-exception-message' || k === '__connect.errors.exception.message' || k === 'dead-letter-reason' || k === 'mt-fault-message') out.message = v
    else if (k === 'kafka_dlt-exception-cause-fqcn' || k === 'dead-letter-cause-class-name') out.cause = v
  }
  return out
}
