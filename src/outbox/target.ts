/** Where an `evt outbox` command looks: the outbox flags merged with the profile's `outbox:` section. */
import { usageError } from '../errors.ts'
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
  /** Read every topic starting with this (Debezium's default `outbox.event.`), unless `topics` is given. */
  topicPrefix: string
  /** Exactly these topics (tail: resolved once, at start). */
  topics?: string[]
  /** Only rows of these aggregate types (default: all). */
  aggregateTypes?: string[]
}

/**
 * Flag > the profile's setting > default (table `outbox`, prefix `outbox.event.`, Debezium's
 * columns plus `created_at`). `timeoutMs` bounds the database connect and each query.
 * @throws EvtError usage (2) when no database is named.
 */
export function outboxTarget(flags: OutboxFlagValues, profile: OutboxConfig | undefined, timeoutMs: number): OutboxTarget {
  const p = profile ?? {}
  const url = flags.db ?? p.db
  if (!url) throw usageError('no outbox database: pass --db postgres://… or set outbox.db in the profile', 'e.g. --db postgres://postgres@127.0.0.1:15432/evt (the local cluster\'s, with npm run kafka:up -- --outbox)')
  const columns = { ...DEFAULT_OUTBOX_COLUMNS, ...p.columns, ...(flags['timestamp-column'] ? { timestamp: flags['timestamp-column'] } : {}) }
  return {
    table: { url, table: flags.table ?? p.table ?? 'outbox', columns, timeoutMs },
    topicPrefix: flags['topic-prefix'] ?? p.topicPrefix ?? 'outbox.event.',
    topics: flags.topic,
    aggregateTypes: flags['aggregate-type'],
  }
}
