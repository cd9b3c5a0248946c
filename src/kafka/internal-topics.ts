/**
 * Topics evt does not write to on its own initiative: the write guard of `produce`, `replay
 * --to-topic` and `dlq requeue` (documented in README.md, "Security" → "Write guards").
 *
 * - Kafka's own topics, any name starting with `__` (`__consumer_offsets`, `__transaction_state`,
 *   `__cluster_metadata`, …): never written, even when named explicitly.
 * - The schema registry's store `_schemas`, and Kafka Connect's configuration, offset and status
 *   topics (`connect-configs`, `connect-offsets`, `connect-status`, and any name ending in
 *   `-configs`, `-offsets` or `-status`, as Connect clusters name theirs): written only when the
 *   user named the topic explicitly (`produce <topic>`, `replay --to-topic`, `dlq requeue --to`),
 *   never because a dead-letter header points there.
 * - The profile's `protectedTopics` (names or globs): like the platform topics.
 * - evt's requeue ledgers (`<dlq>.evt-requeued`, see src/dlq/ledger.ts): written only by `dlq
 *   requeue` itself, in the transactions that requeue records; never a target of `produce`,
 *   `replay --to-topic` or `dlq requeue` (named or from a header), never a DLQ.
 */
import picomatch from 'picomatch'
import { refusedError } from '../errors.ts'

/** Why a topic is guarded: Kafka's own (never written), a platform topic (written only when named explicitly), or evt's requeue ledger (written only by `dlq requeue`'s transactions). */
export type InternalTopicKind = 'kafka' | 'platform' | 'evt-ledger'

/** Suffix of a DLQ's requeue ledger topic: `payments.events-dlt` → `payments.events-dlt.evt-requeued`. */
export const REQUEUE_LEDGER_SUFFIX = '.evt-requeued'

/** The requeue ledger topic of a DLQ topic (`<dlq>.evt-requeued`). */
export function requeueLedgerTopic(dlqTopic: string): string {
  return `${dlqTopic}${REQUEUE_LEDGER_SUFFIX}`
}

/** True for a requeue ledger topic (a name ending in `.evt-requeued`). */
export function isRequeueLedgerTopic(topic: string): boolean {
  return topic.endsWith(REQUEUE_LEDGER_SUFFIX) && topic.length > REQUEUE_LEDGER_SUFFIX.length
}

const PLATFORM_TOPICS = new Set(['_schemas', 'connect-configs', 'connect-offsets', 'connect-status'])
const CONNECT_SUFFIXES = ['-configs', '-offsets', '-status']

/** The kind of internal topic `topic` is, or undefined for an ordinary topic. */
export function internalTopicKind(topic: string): InternalTopicKind | undefined {
  if (topic.startsWith('__')) return 'kafka'
  if (isRequeueLedgerTopic(topic)) return 'evt-ledger'
  if (PLATFORM_TOPICS.has(topic) || CONNECT_SUFFIXES.some((s) => topic.endsWith(s))) return 'platform'
  return undefined
}

/**
 * Why `topic` is not a relay's topic to read (`evt outbox`), or undefined when it may be: Kafka's
 * own topics, evt's requeue ledgers, and the schema registry's and Kafka Connect's topics by their
 * usual names (`_schemas`, `connect-configs`, `connect-offsets`, `connect-status`). A name that only
 * ends like a Connect topic (`outbox.event.order-status`) is an ordinary outbox topic.
 */
export function relayReadRefusal(topic: string): string | undefined {
  const kind = internalTopicKind(topic)
  if (kind === 'kafka') return `"${topic}" is one of Kafka's internal topics`
  if (kind === 'evt-ledger') return `"${topic}" is evt's requeue ledger of "${topic.slice(0, -REQUEUE_LEDGER_SUFFIX.length)}"`
  if (PLATFORM_TOPICS.has(topic)) return `"${topic}" is a schema registry or Kafka Connect internal topic`
  return undefined
}

const matchers = new Map<string, (name: string) => boolean>()

/** True when `topic` matches one of `protectedTopics` (names or globs; `/` is an ordinary character). */
export function isProtectedTopic(topic: string, protectedTopics: readonly string[] = []): boolean {
  return protectedTopics.some((pattern) => {
    let match = matchers.get(pattern)
    if (!match) {
      const glob = picomatch(pattern.replaceAll('/', '\0'), { dot: true })
      match = (name) => glob(name.replaceAll('/', '\0'))
      matchers.set(pattern, match)
    }
    return match(topic)
  })
}

/**
 * Why evt will not write to `topic`, or undefined when it may. `explicit`: the user named the
 * topic on the command line (a `__*` topic is refused even then). `protectedTopics`: the
 * profile's own list (names or globs), guarded like the platform topics.
 */
export function writeRefusal(topic: string, explicit: boolean, protectedTopics: readonly string[] = []): string | undefined {
  const kind = internalTopicKind(topic)
  if (kind === 'kafka') return `"${topic}" is one of Kafka's internal topics: evt never writes to it`
  if (kind === 'evt-ledger') return `"${topic}" is evt's requeue ledger of "${topic.slice(0, -REQUEUE_LEDGER_SUFFIX.length)}": only dlq requeue writes it, with the records it requeues`
  if (explicit) return undefined
  if (kind === 'platform') return `"${topic}" is a schema registry or Kafka Connect internal topic`
  if (isProtectedTopic(topic, protectedTopics)) return `"${topic}" is protected by the profile's protectedTopics`
  return undefined
}

/**
 * Refuses (exit 6) a write to a topic the user named explicitly (`flag` names where: `--to-topic`,
 * `--to`, `produce <topic>`) when it is one of Kafka's internal topics.
 * @throws EvtError refused (6).
 */
export function assertWritableTopic(topic: string, flag: string): void {
  const reason = writeRefusal(topic, true)
  if (reason) throw refusedError(`${flag} ${topic}: ${reason}`, internalTopicKind(topic) === 'evt-ledger' ? 'choose an ordinary topic; to requeue a record again, use dlq requeue --again' : 'internal topics are written by the broker and its clients only; choose an ordinary topic')
}
