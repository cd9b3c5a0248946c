import { createReadStream, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { parseHeaderFlag, parseJsonLine } from '../codec/input.ts'
import { parseSchemaSelector } from '../codec/registry.ts'
import { EvtError, usageError } from '../errors.ts'
import { connectionFlags, jsonFlag } from '../flags.ts'
import { produceRecords, type ProduceRecord } from '../services/produce.ts'

export default class Produce extends EvtCommand {
  static override summary = 'Write records to a topic (idempotent producer) and print where each landed.'
  static override description = `The value comes from the argument, from @file, or from stdin: the whole of stdin as one record, one record per line with --lines, or the JSON lines of \`evt tail -f json\` with --input json (keys, values, headers, binary and nulls come back byte-exact).

With --value-schema <subject>[:version] or --value-schema-id <id> (and --key-schema / --key-schema-id) the input is JSON, encoded with that registry schema — Avro, Protobuf (the schema's first message) or JSON Schema (validated) — and Confluent-framed (0x00 + schema id), as real serializers write it. The JSON is what \`evt tail -f json\` shows for such records: Avro decimals, dates and timestamps as strings, unions as {"<branch>": value} unless nullable, bytes as base64; Protobuf as proto3 JSON. Input that is not JSON is taken as a string.

Prints topic/partition@offset per record; with --json one {"topic","partition","offset"} line per record.`
  static override examples = [
    { description: 'One JSON event with a key and headers', command: '<%= config.bin %> <%= command.id %> orders.events \'{"event_type":"OrderPlaced","aggregate_id":"order-1"}\' -k order-1 -H correlation_id=req_abc123 -H content-type=application/json' },
    { description: 'A tombstone for a key', command: '<%= config.bin %> <%= command.id %> customers.state --tombstone -k customer-42' },
    { description: 'One record per line of a file, compressed with zstd', command: '<%= config.bin %> <%= command.id %> orders.events --lines --compression zstd < events.ndjson' },
    { description: 'An Avro value, encoded with the latest schema of orders-value', command: '<%= config.bin %> <%= command.id %> orders \'{"id":"o-1","total":"12.50","placed_at":"2026-11-28T14:00:00Z"}\' -k o-1 --value-schema orders-value --registry http://localhost:8081' },
    { description: 'Copy records between topics, headers and binary intact', command: '<%= config.bin %> tail orders.events -o start -e -f json | <%= config.bin %> <%= command.id %> orders.copy --input json' },
  ]
  static override args = {
    topic: Args.string({ ignoreStdin: true, description: 'Topic to write to.', required: true }),
    value: Args.string({ ignoreStdin: true, description: 'The value, or @file to read it from a file. Omitted: read stdin.' }),
  }
  static override flags = {
    ...connectionFlags,
    ...jsonFlag,
    key: Flags.string({ char: 'k', summary: 'Record key (text).' }),
    header: Flags.string({ char: 'H', summary: 'Header name=value. Repeatable; duplicates are kept in order.', multiple: true }),
    partition: Flags.integer({ char: 'p', summary: 'Write to this partition (default: by key, round-robin without a key).', min: 0 }),
    tombstone: Flags.boolean({ summary: 'Write a null value (delete the key on a compacted topic).' }),
    lines: Flags.boolean({ summary: 'One record per line of stdin or the @file.' }),
    input: Flags.option({ options: ['raw', 'json'] as const, default: 'raw' as const, summary: 'raw: values as given; json: JSON lines as written by evt tail -f json.' })(),
    'keep-timestamps': Flags.boolean({ summary: 'With --input json: keep each record\'s timestamp (default: now).' }),
    'value-schema': Flags.string({ summary: 'Encode the value (JSON) with this registry subject: <subject>[:version], default latest.', exclusive: ['value-schema-id'], helpGroup: 'SCHEMA', env: 'EVT_VALUE_SCHEMA' }),
    'value-schema-id': Flags.integer({ summary: 'Encode the value (JSON) with this registry schema id.', min: 1, exclusive: ['value-schema'], helpGroup: 'SCHEMA' }),
    'key-schema': Flags.string({ summary: 'Encode the key (JSON; text that is not JSON is a string) with this subject: <subject>[:version].', exclusive: ['key-schema-id'], helpGroup: 'SCHEMA', env: 'EVT_KEY_SCHEMA' }),
    'key-schema-id': Flags.integer({ summary: 'Encode the key with this registry schema id.', min: 1, exclusive: ['key-schema'], helpGroup: 'SCHEMA' }),
    compression: Flags.option({ options: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const, default: 'none' as const, summary: 'Compression codec for the record batches.' })(),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Produce)
    this.setJsonOutput(flags.json)
    if (flags.tombstone && args.value !== undefined) throw usageError('--tombstone and a value cannot be combined', 'a tombstone has no value: drop the value argument')
    if (flags.input === 'json' && (flags.key || flags.header?.length || flags.tombstone)) throw usageError('--input json takes keys, values and headers from each line', 'drop -k/-H/--tombstone, or use --input raw')
    const base = { key: flags.key === undefined ? null : Buffer.from(flags.key), headers: (flags.header ?? []).map(parseHeaderFlag), partition: flags.partition }
    const schemas = {
      key: flags['key-schema'] ? parseSchemaSelector(flags['key-schema'], '--key-schema') : flags['key-schema-id'] ? { id: flags['key-schema-id'] } : undefined,
      value: flags['value-schema'] ? parseSchemaSelector(flags['value-schema'], '--value-schema') : flags['value-schema-id'] ? { id: flags['value-schema-id'] } : undefined,
    }
    if (flags.input === 'json' && (schemas.key || schemas.value)) throw usageError('--input json writes records back byte-exact: it cannot be combined with --value-schema/--key-schema', 'give JSON values with --lines (one per line) or as the argument instead')
    const records = this.records(args.value, flags, base)
    let count = 0
    for await (const at of produceRecords(this.connection(flags), records, { topic: args.topic, compression: flags.compression, schemas })) {
      count++
      this.out(flags.json ? JSON.stringify(at) : `${at.topic}/${at.partition}@${at.offset}`)
    }
    if (count === 0) this.note('evt: no records to write (empty input)')
  }

  private async *records(value: string | undefined, flags: { tombstone: boolean; lines: boolean; input: 'raw' | 'json'; 'keep-timestamps': boolean; partition?: number }, base: Omit<ProduceRecord, 'value'>): AsyncGenerator<ProduceRecord> {
    if (flags.tombstone) {
      yield { ...base, value: null }
      return
    }
    const file = value?.startsWith('@') ? value.slice(1) : undefined
    if (value !== undefined && !file && value !== '-') {
      if (flags.lines || flags.input === 'json') {
        for (const [i, line] of value.split('\n').entries()) yield* this.fromLine(line, i + 1, flags, base)
      } else yield { ...base, value: Buffer.from(value) }
      return
    }
    if (!file && process.stdin.isTTY) throw usageError('no value given and stdin is a terminal', 'pass the value as an argument, @file, or pipe records into stdin')
    const open = () => {
      const stream = file ? createReadStream(file) : process.stdin
      stream.on('error', () => {})
      return stream
    }
    if (file) {
      try {
        readFileSync(file, { flag: 'r' }).length
      } catch (err) {
        throw new EvtError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { hint: 'check the path after @' })
      }
    }
    if (flags.lines || flags.input === 'json') {
      let n = 0
      for await (const line of createInterface({ input: open(), crlfDelay: Infinity })) yield* this.fromLine(line, ++n, flags, base)
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of open()) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    yield { ...base, value: Buffer.concat(chunks) }
  }

  private *fromLine(line: string, n: number, flags: { input: 'raw' | 'json'; 'keep-timestamps': boolean; partition?: number }, base: Omit<ProduceRecord, 'value'>): Generator<ProduceRecord> {
    if (line.trim() === '') return
    if (flags.input === 'json') {
      const r = parseJsonLine(line, n)
      yield { key: r.key, value: r.value, headers: r.headers, partition: flags.partition, timestamp: flags['keep-timestamps'] ? r.timestamp : undefined }
    } else yield { ...base, value: Buffer.from(line) }
  }
}
