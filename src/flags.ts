/**
 * Every shared flag, defined once. Each has an EVT_* env var; commands spread the groups in.
 */
import { Flags } from '@oclif/core'
import { usageError } from './errors.ts'
import { parseTimeout } from './time.ts'

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
