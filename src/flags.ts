/**
 * Every shared flag, defined once. Each has an EVT_* env var; commands spread the groups in.
 */
import { Flags } from '@oclif/core'
import { usageError } from './errors.ts'
import { parseDuration, parseTimeout } from './time.ts'

/** Connection flags, on every command that talks to Kafka (precedence: flag > env > profile > default). */
export const connectionFlags = {
  brokers: Flags.string({
    char: 'b',
    summary: 'Bootstrap brokers, host:port[,host:port…] (default 127.0.0.1:9092, or the profile\'s).',
    env: 'EVT_BROKERS',
    helpGroup: 'CONNECTION',
  }),
  profile: Flags.string({
    summary: 'Connection profile from the config file (see `evt profiles list`).',
    env: 'EVT_PROFILE',
    helpGroup: 'CONNECTION',
  }),
  registry: Flags.string({
    summary: 'Schema registry URL (Confluent-compatible API).',
    env: 'EVT_SCHEMA_REGISTRY_URL',
    helpGroup: 'CONNECTION',
  }),
  timeout: Flags.custom<number>({
    summary: 'How long to wait for a broker to answer, when connecting and for each request, e.g. 10s, 500ms.',
    env: 'EVT_TIMEOUT',
    default: 10_000,
    defaultHelp: async () => '10s',
    parse: async (input) => parseTimeout(input, '--timeout'),
    helpGroup: 'CONNECTION',
  })(),
  verbose: Flags.boolean({
    summary: 'Log Kafka client activity and full error causes to stderr.',
    env: 'EVT_VERBOSE',
    helpGroup: 'CONNECTION',
  }),
}

/** `--strict`: a schema registry that cannot be reached fails the command instead of a warning. */
export const strictFlag = {
  strict: Flags.boolean({
    summary: 'Exit 3 when the schema registry cannot be reached (default: show such records raw, with one warning).',
    env: 'EVT_STRICT',
    helpGroup: 'CONNECTION',
  }),
}

/** `--json`: machine-readable output on stdout (the command's documented JSON contract). */
export const jsonFlag = {
  json: Flags.boolean({
    summary: 'Print JSON on stdout instead of a table.',
    env: 'EVT_JSON',
  }),
}

/** Record filters (tail, trace, replay, dlq). */
export const filterFlags = {
  filter: Flags.string({
    summary: 'Only records for which this CEL expression is true, e.g. \'value.event_type == "OrderPlaced"\'. Sees topic, partition, offset, timestamp, key, value, headers.',
    env: 'EVT_FILTER',
    helpGroup: 'FILTER',
  }),
  key: Flags.string({
    summary: 'Only records whose key matches this glob (e.g. "order-1*").',
    helpGroup: 'FILTER',
  }),
  header: Flags.string({
    summary: 'Only records with this header (name=value, or name for presence). Repeatable: all must match.',
    multiple: true,
    helpGroup: 'FILTER',
  }),
}

/** Isolation level for reads. */
export const isolationFlag = {
  isolation: Flags.option({
    options: ['read_committed', 'read_uncommitted'] as const,
    summary: 'read_committed hides records of aborted transactions and stops at the last stable offset.',
    default: 'read_committed' as const,
    env: 'EVT_ISOLATION',
  })(),
}

/** Parses a partition list like "0,2,5" or "0-3". */
export function parsePartitionList(values: string[] | undefined): number[] | undefined {
  if (!values?.length) return undefined
  const out = new Set<number>()
  for (const v of values.flatMap((x) => x.split(','))) {
    const range = /^(\d+)-(\d+)$/.exec(v.trim())
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])]
      if (from > to) throw usageError(`-p: range "${v}" ends before it starts`, `write it low-high, e.g. -p ${to}-${from}`)
      if (to - from >= 100_000) throw usageError(`-p: range "${v}" names ${to - from + 1} partitions`, 'topics have far fewer: name the partitions you want, e.g. -p 0-11')
      for (let i = from; i <= to; i++) out.add(i)
    }
    else if (/^\d+$/.test(v.trim())) out.add(Number(v.trim()))
    else throw usageError(`-p: "${v}" is not a partition number or range`, 'e.g. -p 0,2 or -p 0-3')
  }
  return [...out].sort((a, b) => a - b)
}

/** Where `evt outbox` finds the outbox (flag > env > the profile's `outbox:` > default). */
export const outboxFlags = {
  db: Flags.string({ summary: 'PostgreSQL URL of the service\'s database, e.g. postgres://user@host:5432/shop (default: the profile\'s outbox.db).', env: 'EVT_OUTBOX_DB', helpGroup: 'OUTBOX' }),
  table: Flags.string({ summary: 'The outbox table, optionally schema-qualified (default: the profile\'s, else outbox).', env: 'EVT_OUTBOX_TABLE', helpGroup: 'OUTBOX' }),
  'topic-prefix': Flags.string({ summary: 'The relay\'s topics: every topic starting with this (default: the profile\'s, else outbox.event.).', env: 'EVT_OUTBOX_TOPIC_PREFIX', helpGroup: 'OUTBOX' }),
  topic: Flags.string({ summary: 'Exactly these topics instead (repeatable).', multiple: true, env: 'EVT_OUTBOX_TOPIC', helpGroup: 'OUTBOX' }),
  'aggregate-type': Flags.string({ summary: 'Only rows of this aggregate type (repeatable); pair it with --topic or --topic-prefix for its topics.', multiple: true, env: 'EVT_OUTBOX_AGGREGATE_TYPE', helpGroup: 'OUTBOX' }),
  'timestamp-column': Flags.string({ summary: 'The column with the time each row was written (default: the profile\'s, else created_at).', env: 'EVT_OUTBOX_TIMESTAMP_COLUMN', helpGroup: 'OUTBOX' }),
  grace: Flags.custom<number>({ summary: 'How long a row may take to reach Kafka before it counts as late (unpublished), e.g. 30s.', default: 30_000, defaultHelp: async () => '30s', parse: async (v) => parseDuration(v, '--grace'), env: 'EVT_OUTBOX_GRACE', helpGroup: 'OUTBOX' })(),
}
