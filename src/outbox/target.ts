/** Where an `evt outbox` command looks: the outbox flags merged with the profile's `outbox:` section. */
import { usageError } from '../errors.ts'
import { relayReadRefusal } from '../kafka/internal-topics.ts'
import type { OutboxConfig } from '../config/profiles.ts'
import { DEFAULT_OUTBOX_COLUMNS, type OutboxTable } from './postgres.ts'

/** The outbox flags as parsed (see `outboxFlags` in src/flags.ts). */
export interface OutboxFlagValues {
  db?: string
  table?: string
  'topic-prefix'?: string
  topic?: string[]
  'aggregate-type'?: string[]
  'timestamp-column'?: string
}

/** The table, the relay's topics and the rows to look at. */
export interface OutboxTarget {
  table: OutboxTable
  /** Read every topic starting with this (Debezium's default `outbox.event.`), unless `topics` is given; internal topics are left out (see {@link relayTopics}). */
  topicPrefix: string
  /** Exactly these topics (tail: resolved once, at start). */
  topics?: string[]
  /** Only rows of these aggregate types (default: all). */
  aggregateTypes?: string[]
}

/**
 * Flag > the profile's setting > default (table `outbox`, prefix `outbox.event.`, Debezium's
 * columns plus `created_at`). `timeoutMs` bounds the database connect and each query.
 * @throws EvtError usage (2) when no database is named, or when --topic names an internal topic
 *   (see relayReadRefusal in src/kafka/internal-topics.ts) or --topic-prefix is Kafka's `__`.
 */
export function outboxTarget(flags: OutboxFlagValues, profile: OutboxConfig | undefined, timeoutMs: number): OutboxTarget {
  const p = profile ?? {}
  const url = flags.db ?? p.db
  if (!url) throw usageError('no outbox database: pass --db postgres://… or set outbox.db in the profile', 'e.g. --db postgres://postgres@127.0.0.1:15432/evt (the local cluster\'s, with npm run kafka:up -- --outbox)')
  for (const topic of flags.topic ?? []) {
    const reason = relayReadRefusal(topic)
    if (reason) throw usageError(`--topic ${topic}: ${reason}, not an outbox relay's topic`, 'name the topics the relay publishes to (Debezium\'s outbox event router: outbox.event.<aggregate type>), or leave --topic out to read every topic starting with --topic-prefix')
  }
  const topicPrefix = flags['topic-prefix'] ?? p.topicPrefix ?? 'outbox.event.'
  if (topicPrefix.startsWith('__')) throw usageError(`--topic-prefix ${topicPrefix}: topics starting with __ are Kafka's internal topics, not an outbox relay's`, 'give the prefix of the relay\'s topics, e.g. outbox.event.')
  const columns = { ...DEFAULT_OUTBOX_COLUMNS, ...p.columns, ...(flags['timestamp-column'] ? { timestamp: flags['timestamp-column'] } : {}) }
  return {
    table: { url, table: flags.table ?? p.table ?? 'outbox', columns, timeoutMs },
    topicPrefix,
    topics: flags.topic,
    aggregateTypes: flags['aggregate-type'],
  }
}

/**
 * The topics of `all` that start with `prefix`, sorted, without internal topics (a prefix such as
 * `_` or `connect-` must not pull in `_schemas` or Connect's own topics; see relayReadRefusal).
 */
export function relayTopics(all: readonly string[], prefix: string): string[] {
  return all.filter((t) => t.startsWith(prefix) && relayReadRefusal(t) === undefined).sort()
}
