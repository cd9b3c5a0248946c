import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { parseHeaderFlag } from '../codec/input.ts'
import { produceInput, type BadLine } from '../services/produce-input.ts'
import { parseSchemaSelector } from '../codec/registry.ts'
import { EvtError, ExitCode, isKafkaClientError, mapKafkaError, usageError } from '../errors.ts'
import { connectionFlags, jsonFlag, withEnv } from '../flags.ts'
import { produceRecords } from '../services/produce.ts'

export default class Produce extends EvtCommand {
  static override summary = 'Write records to a topic (idempotent producer) and print where each landed.'
  static override description = `The value comes from the argument, from @file, or from stdin: the whole of stdin as one record, one record per line with --lines, or the JSON lines of \`evt tail -f json\` with --input json (keys, values, headers, binary and nulls come back byte-exact).

With --value-schema <subject>[:version] or --value-schema-id <id> (and --key-schema / --key-schema-id) the input is JSON, encoded with that registry schema — Avro, Protobuf (the schema's first message) or JSON Schema (validated) — and Confluent-framed (0x00 + schema id), as real serializers write it. The JSON is what \`evt tail -f json\` shows for such records: Avro decimals, dates and timestamps as strings, unions as {"<branch>": value} unless nullable, bytes as base64; Protobuf as proto3 JSON. Input that is not JSON is taken as a string.

Lines are split on \n only (a \r, U+2028 or U+2029 inside a value stays in it); CRLF line ends are accepted. Records are sent in batches of up to 500, and as soon as input pauses (50 ms), so a live stream (\`tail -f … | evt produce …\`) goes out as it comes.

A bad line stops the run with exit 2, after every record before it has been written: the error names the line, so you can fix it and resume with \`tail -n +<line>\`. Ctrl-C stops reading, writes what was already read, and exits 130.

Prints topic/partition@offset per record; with --json one {"topic","partition","offset"} line per record.`
  static override examples = [
    { description: 'One JSON event with a key and headers', command: '<%= config.bin %> <%= command.id %> orders.events \'{"event_type":"OrderPlaced","aggregate_id":"order-1"}\' -k order-1 -H correlation_id=req_abc123 -H content-type=application/json' },
    { description: 'A tombstone for a key', command: '<%= config.bin %> <%= command.id %> customers.state --tombstone -k customer-42' },
    { description: 'One record per line of a file, compressed with zstd', command: '<%= config.bin %> <%= command.id %> orders.events --lines --compression zstd < events.ndjson' },
    { description: 'An Avro value, encoded with the latest schema of orders-value', command: '<%= config.bin %> <%= command.id %> orders \'{"order_id":"ord_1","customer_id":"cus_1","total":"12.50","placed_at":"2026-11-28T14:00:00Z"}\' -k ord_1 --value-schema orders-value --registry http://localhost:8081' },
    { description: 'Copy records between topics, headers and binary intact', command: '<%= config.bin %> tail orders.events -o start -e -f json | <%= config.bin %> <%= command.id %> orders.copy --input json' },
  ]
  static override args = {
    topic: Args.string({ ignoreStdin: true, description: 'Topic to write to.', required: true }),
    value: Args.string({ ignoreStdin: true, description: 'The value, or @file to read it from a file. Omitted: read stdin.' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    key: Flags.string({ char: 'k', summary: 'Record key (text).', env: 'EVT_PRODUCE_KEY' }),
    header: Flags.string({ char: 'H', summary: 'Header name=value. Repeatable; duplicates are kept in order.', multiple: true, env: 'EVT_PRODUCE_HEADER' }),
    partition: Flags.integer({ char: 'p', summary: 'Write to this partition (default: by key, round-robin without a key).', min: 0, env: 'EVT_PRODUCE_PARTITION' }),
    tombstone: Flags.boolean({ summary: 'Write a null value (delete the key on a compacted topic).' }),
    lines: Flags.boolean({ summary: 'One record per line of stdin or the @file (split on \\n only; CRLF line ends are accepted).' }),
    input: Flags.option({ options: ['raw', 'json'] as const, default: 'raw' as const, summary: 'raw: values as given; json: JSON lines as written by evt tail -f json (CRLF line ends are accepted).' })(),
    'keep-timestamps': Flags.boolean({ summary: 'With --input json: keep each record\'s timestamp (default: now).' }),
    'value-schema': Flags.string({ summary: 'Encode the value (JSON) with this registry subject: <subject>[:version], default latest.', exclusive: ['value-schema-id'], helpGroup: 'SCHEMA', env: 'EVT_VALUE_SCHEMA' }),
    'value-schema-id': Flags.integer({ summary: 'Encode the value (JSON) with this registry schema id.', min: 1, exclusive: ['value-schema'], helpGroup: 'SCHEMA' }),
    'key-schema': Flags.string({ summary: 'Encode the key (JSON; text that is not JSON is a string) with this subject: <subject>[:version].', exclusive: ['key-schema-id'], helpGroup: 'SCHEMA', env: 'EVT_KEY_SCHEMA' }),
    'key-schema-id': Flags.integer({ summary: 'Encode the key with this registry schema id.', min: 1, exclusive: ['key-schema'], helpGroup: 'SCHEMA' }),
    compression: Flags.option({ options: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const, default: 'none' as const, summary: 'Compression codec for the record batches.' })(),
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Produce)
    this.setJsonOutput(flags.json)
    if (flags.tombstone && args.value !== undefined) throw usageError('--tombstone and a value cannot be combined', 'a tombstone has no value: drop the value argument')
    if (flags.input === 'json' && (flags.key || flags.header?.length || flags.tombstone)) throw usageError('--input json takes keys, values and headers from each line', 'drop -k/-H/--tombstone, or use --input raw')
    // Node decodes arguments as UTF-8 and turns bytes that are not into U+FFFD: refuse instead of writing changed bytes
    for (const [what, text] of [['-k/--key', flags.key], ...(flags.header ?? []).map((h) => ['-H/--header', h] as const)] as const) {
      if (text?.includes('\uFFFD')) throw usageError(`${what} "${text}" holds bytes that are not UTF-8 (shown as \uFFFD): they cannot be passed as an argument unchanged`, 'write binary keys and headers with --input json (key and header values as base64, as `evt tail -f json` prints them)')
    }
    const base = { key: flags.key === undefined ? null : Buffer.from(flags.key), headers: (flags.header ?? []).map(parseHeaderFlag), partition: flags.partition }
    const schemas = {
      key: flags['key-schema'] ? parseSchemaSelector(flags['key-schema'], '--key-schema') : flags['key-schema-id'] ? { id: flags['key-schema-id'] } : undefined,
      value: flags['value-schema'] ? parseSchemaSelector(flags['value-schema'], '--value-schema') : flags['value-schema-id'] ? { id: flags['value-schema-id'] } : undefined,
    }
    if (flags.input === 'json' && (schemas.key || schemas.value)) throw usageError('--input json writes records back byte-exact: it cannot be combined with --value-schema/--key-schema', 'give JSON values with --lines (one per line) or as the argument instead')
    // a second Ctrl-C stops at once
    const interrupt = this.interruptSignal({ secondExits: true })
    const where: BadLine = { pending: [] }
    const records = produceInput(args.value, flags, base, interrupt.signal, where)
    let count = 0
    let interrupted = false
    try {
      for await (const at of produceRecords(this.session(flags), records, { topic: args.topic, compression: flags.compression, schemas })) {
        count++
        where.pending.shift()
        this.out(flags.json ? JSON.stringify(at) : `${at.topic}/${at.partition}@${at.offset}`)
      }
    } catch (err) {
      // the error ends the process: first let stdout take the offsets already printed
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
      const written = `${count} record${count === 1 ? '' : 's'} written before`
      if (where.line !== undefined && err === where.error && err instanceof EvtError) {
        const line = where.line
        throw usageError(`${err.message} (${written} line ${line})`, `fix line ${line} and resume from it: tail -n +${line} <input> | evt produce ${args.topic} …`)
      }
      // a write that failed: say how many records are in the topic, and from which input line on they are not
      const failed = isKafkaClientError(err) ? mapKafkaError(err, { topic: args.topic }) : err
      const line = where.pending[0]
      if (failed instanceof EvtError && (count > 0 || line !== undefined)) {
        const resume = line !== undefined ? `; line ${line} and after were not written` : ''
        throw new EvtError(failed.kind, `${failed.message} (${written} it${resume})`, { hint: line !== undefined ? `${failed.hint ? `${failed.hint}; then ` : ''}resume from line ${line}: tail -n +${line} <input> | evt produce ${args.topic} …` : failed.hint, cause: failed.cause ?? err })
      }
      throw failed
    } finally {
      interrupted = interrupt.signal.aborted
      interrupt.abort() // lets go of stdin if the run stopped early
    }
    if (interrupted) {
      this.note(`evt: interrupted: ${count} record${count === 1 ? '' : 's'} written`)
      process.exitCode = ExitCode.Interrupted
    } else if (count === 0) this.note('evt: no records to write (empty input)')
  }
}
