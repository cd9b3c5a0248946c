/**
 * Every shared flag, defined once; commands spread the groups in (or call the factories where a
 * command's default or summary differs), then pass their flags through {@link withEnv}, which gives
 * every flag its EVT_* variable. test/unit/flags-env.test.ts checks every command's flags.
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
    summary: 'Print JSON on stdout (its schema: docs/schemas/).',
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
    env: 'EVT_KEY',
    helpGroup: 'FILTER',
  }),
  header: Flags.string({
    summary: 'Only records with this header (name=value, or name for presence). Repeatable: all must match.',
    multiple: true,
    env: 'EVT_HEADER',
    helpGroup: 'FILTER',
  }),
}

/**
 * `--filter` with this command's summary (what the CEL expression sees differs: dlq adds `failure`).
 * Same variable everywhere: EVT_FILTER.
 */
export function filterFlag(options: { summary: string }) {
  return { filter: Flags.string({ summary: options.summary, env: 'EVT_FILTER', helpGroup: 'FILTER' }) }
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

/**
 * `-o/--offset`: positions of tail's grammar (src/kafka/positions.ts). Default and summary per command;
 * EVT_OFFSET everywhere. `legacyEnv` names an older variable still read when EVT_OFFSET is unset
 * (dlq inspect's EVT_DLQ_OFFSET).
 */
export function offsetFlag(options: { default: string; summary: string; legacyEnv?: string }) {
  const { legacyEnv } = options
  return {
    offset: Flags.string({
      char: 'o',
      summary: options.summary,
      env: 'EVT_OFFSET',
      default: legacyEnv ? async () => process.env[legacyEnv] || options.default : options.default,
      ...(legacyEnv ? { defaultHelp: async () => options.default } : {}),
    }),
  }
}

/** `-p/--partition`: a partition list (0,2 or 0-3), repeatable; parse it with {@link parsePartitionList}. EVT_PARTITION. */
export function partitionFlag(options: { summary?: string } = {}) {
  return {
    partition: Flags.string({ char: 'p', summary: options.summary ?? 'Only these partitions (0,2 or 0-3). Repeatable.', multiple: true, env: 'EVT_PARTITION' }),
  }
}

/** `-n/--max-messages`: stop after this many records, counted after filters. EVT_MAX_MESSAGES. */
export const maxMessagesFlag = {
  'max-messages': Flags.integer({ char: 'n', summary: 'Stop after this many records (after filters).', min: 0, env: 'EVT_MAX_MESSAGES' }),
}

/** `-e/--exit`: stop at the end offsets taken at start. EVT_EXIT. */
export const exitFlag = {
  exit: Flags.boolean({ char: 'e', summary: 'Stop at the end offsets taken at start (never hangs).', env: 'EVT_EXIT' }),
}

/**
 * `-f/--format` with the command's formats (one of them `json`: `-f json` is the same as `--json`,
 * see {@link EvtCommand.outputFormat}). Commands whose formats differ name their own variable
 * (`env`, e.g. EVT_TRACE_FORMAT); the default is EVT_FORMAT.
 */
export function formatFlag<const T extends readonly string[]>(options: { options: T; summary: string; env?: string }) {
  return {
    format: Flags.option({ char: 'f', options: options.options, summary: options.summary, env: options.env ?? 'EVT_FORMAT' })(),
  }
}

/** `--no-ui`: plain output even on a terminal (no live view or browser). EVT_NO_UI. */
export const noUiFlag = {
  'no-ui': Flags.boolean({ summary: 'Plain output even on a terminal (no live view or browser).', env: 'EVT_NO_UI' }),
}

/** `--progress`: report progress on stderr even when stderr is not a terminal. EVT_PROGRESS. */
export const progressFlag = {
  progress: Flags.boolean({ summary: 'Report progress on stderr even when it is not a terminal (default: only on a terminal).', env: 'EVT_PROGRESS' }),
}

/**
 * Write safety: `-y/--yes` (no confirmation; needed without a terminal) and `--dry-run` (print the
 * plan and stop), EVT_YES and EVT_DRY_RUN. `nothing` completes the --dry-run summary: "nothing is <nothing>".
 */
export function writeFlags(options: { nothing?: string } = {}) {
  return {
    'dry-run': Flags.boolean({ summary: `Print the plan and stop: nothing is ${options.nothing ?? 'written'}.`, env: 'EVT_DRY_RUN' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation (needed without a terminal).', env: 'EVT_YES' }),
  }
}

/** `--rate`: at most this many records per second (moves: replay --to-topic, dlq requeue). EVT_RATE. */
export const rateFlag = {
  rate: Flags.integer({ summary: 'At most this many records per second.', min: 1, env: 'EVT_RATE' }),
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

/**
 * Environment variables evt reads for other purposes: no flag may take one of these names.
 * (EVT_CONFIG is the config file's path; EVT_CLUSTER_*, EVT_DEMO_*, EVT_TEST_* belong to the
 * local cluster, the demo and the tests.)
 */
export const RESERVED_ENV = ['EVT_CONFIG', 'EVT_REEXEC'] as const

/** Prefixes of variables owned by the cluster scripts, the demo and the tests (never a flag's). */
export const RESERVED_ENV_PREFIXES = ['EVT_CLUSTER_', 'EVT_DEMO_', 'EVT_TEST_'] as const

/**
 * The environment variable of a flag: `EVT_` + the flag name in upper case, dashes as underscores
 * (`max-messages` → `EVT_MAX_MESSAGES`). A flag that means something else in one command carries
 * its own name in its definition instead, scoped by the command (`EVT_PRODUCE_KEY`, `EVT_TRACE_FORMAT`).
 */
export function envName(flag: string): string {
  return `EVT_${flag.toUpperCase().replaceAll('-', '_')}`
}

/**
 * A command's flags, each given its environment variable ({@link envName}) unless its definition
 * names one. Every command passes its flags through this, so every flag has an EVT_* variable and
 * `--help` lists it (`env: EVT_…`). Returns new flag objects; the shared definitions are not changed.
 */
export function withEnv<T extends Record<string, object>>(flags: T): T {
  const out: Record<string, object> = {}
  for (const [name, flag] of Object.entries(flags)) {
    out[name] = 'env' in flag && flag.env ? flag : { ...flag, env: envName(name) }
  }
  return out as T
}

/** What a boolean flag's variable may hold (oclif reads `1`/`true`/`y`/`yes` as true, any other value as false). */
const BOOLEAN_ENV = new Set(['1', 'true', 'y', 'yes', '0', 'false', 'n', 'no'])

/**
 * Checks the variables of a command's boolean flags: a value other than `1`/`true`/`y`/`yes` or
 * `0`/`false`/`n`/`no` (any case; empty counts as unset) would be read as false, silently (`EVT_DRY_RUN=on`
 * would write). Returns the first offending flag, or undefined.
 */
export function badBooleanEnv(flags: Record<string, { type?: string; env?: string; name?: string }>, env: NodeJS.ProcessEnv = process.env): { flag: string; variable: string; value: string } | undefined {
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.type !== 'boolean' || !flag.env) continue
    const value = env[flag.env]
    if (value === undefined || value === '') continue
    if (!BOOLEAN_ENV.has(value.trim().toLowerCase())) return { flag: name, variable: flag.env, value }
  }
  return undefined
}
