/**
 * Every shared flag, defined once. Each has an EVT_* env var; commands spread the groups in.
 */
import { Flags } from '@oclif/core'
import { parseDuration } from './time.ts'

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
    summary: 'How long to wait for the cluster to answer when connecting, e.g. 10s, 500ms.',
    env: 'EVT_TIMEOUT',
    default: 10_000,
    defaultHelp: async () => '10s',
    parse: async (input) => parseDuration(input, '--timeout'),
    helpGroup: 'CONNECTION',
  })(),
  verbose: Flags.boolean({
    summary: 'Log Kafka client activity and full error causes to stderr.',
    env: 'EVT_VERBOSE',
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
