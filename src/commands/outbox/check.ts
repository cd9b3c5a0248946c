import { Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { EvtError, usageError } from '../../errors.ts'
import { connectionFlags, jsonFlag } from '../../flags.ts'
import { DEFAULT_OUTBOX_COLUMNS } from '../../outbox/postgres.ts'
import { renderOutboxCheck } from '../../output/outbox.ts'
import { checkOutbox, findingCounts, OUTBOX_FINDINGS, type OutboxFinding } from '../../services/outbox-check.ts'
import { parseDuration } from '../../time.ts'
import { parseSince } from '../../outbox/window.ts'

export default class OutboxCheck extends EvtCommand {
  static override summary = 'Compare a transactional outbox table with what reached Kafka: unpublished, duplicated, unknown and reordered events, relay lag.'
  static override description = `Reads the outbox table (PostgreSQL, read-only) for the rows written since --since, and the relay's topics (every topic starting with --topic-prefix, or --topic) from that time to their end offsets, without a consumer group. Nothing is written to the database or to Kafka.

Findings:
  unpublished   a row not on Kafka --grace after it was written (younger rows are pending, not a finding)
  duplicate     one row (event id) on more than one record: the relay published it again (e.g. restarted before it recorded its position)
  unknown       a record whose event id the table does not have, or that carries none
  reordered     two rows of one aggregate on Kafka in the opposite order to how they were written
Relay lag is the record's timestamp minus the row's write time: p50, p95 and max per aggregate type.

The table follows Debezium's outbox event router: columns id, aggregatetype, aggregateid, type, payload, plus the time the row was written (default column created_at). The event id on Kafka is the record's id header (Debezium sets it), or the envelope's event id. Column names, table, database and topic prefix can be set in the profile (outbox: db, table, topicPrefix, columns.{id,aggregateType,aggregateId,type,timestamp}).

If the table holds no rows at all (deleted once written, a common Debezium setup), only duplicates, order and lag can be checked: evt says so.

--json prints {"window":{"since","until"},"table","topics","graceMs","rowsKept","rows","records","published","pending","unpublished","duplicates","unknownOrigin","reordered","lag"} (docs/schemas/outbox-check.schema.json). --fail-on lists findings that end the command with exit 5.`
  static override examples = [
    { description: 'The last hour of the local outbox relay', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt' },
    { description: 'The last 15 minutes; exit 5 on unpublished or duplicated rows (CI)', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt --since 15m --fail-on unpublished,duplicate' },
    { description: 'Relay lag per aggregate type, as JSON', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt --json | jq .lag' },
  ]
  static override flags = {
    ...connectionFlags,
    ...jsonFlag,
    db: Flags.string({ summary: 'PostgreSQL URL of the service\'s database, e.g. postgres://user@host:5432/shop (default: the profile\'s outbox.db).', env: 'EVT_OUTBOX_DB' }),
    table: Flags.string({ summary: 'The outbox table, optionally schema-qualified (default: the profile\'s, else outbox).', env: 'EVT_OUTBOX_TABLE' }),
    'topic-prefix': Flags.string({ summary: 'Read every topic starting with this (default: the profile\'s, else outbox.event.).', env: 'EVT_OUTBOX_TOPIC_PREFIX' }),
    topic: Flags.string({ summary: 'Read exactly these topics instead (repeatable).', multiple: true, env: 'EVT_OUTBOX_TOPIC' }),
    'timestamp-column': Flags.string({ summary: 'The column with the time each row was written (default: the profile\'s, else created_at).', env: 'EVT_OUTBOX_TIMESTAMP_COLUMN' }),
    'aggregate-type': Flags.string({ summary: 'Only rows of this aggregate type (repeatable); pair it with --topic or --topic-prefix for its topics.', multiple: true, env: 'EVT_OUTBOX_AGGREGATE_TYPE' }),
    since: Flags.string({ summary: 'Window start: a duration ago (15m, 1h, 2d) or a time (RFC 3339, a date, epoch).', default: '1h', env: 'EVT_OUTBOX_SINCE' }),
    grace: Flags.custom<number>({ summary: 'How long a row may take to reach Kafka before it counts as unpublished, e.g. 30s.', default: 30_000, defaultHelp: async () => '30s', parse: async (v) => parseDuration(v, '--grace'), env: 'EVT_OUTBOX_GRACE' })(),
    'fail-on': Flags.string({ summary: `Exit 5 when there is a finding of these kinds (comma-separated: ${OUTBOX_FINDINGS.join(', ')}).`, env: 'EVT_OUTBOX_FAIL_ON' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(OutboxCheck)
    this.setJsonOutput(flags.json)
    const failOn = parseFailOn(flags['fail-on'])
    const session = this.session(flags)
    const profile = session.connection.outbox ?? {}
    const url = flags.db ?? profile.db
    if (!url) throw usageError('no outbox database: pass --db postgres://… or set outbox.db in the profile', 'e.g. --db postgres://postgres@127.0.0.1:15432/evt (the local cluster\'s, with npm run kafka:up -- --outbox)')
    const columns = { ...DEFAULT_OUTBOX_COLUMNS, ...profile.columns, ...(flags['timestamp-column'] ? { timestamp: flags['timestamp-column'] } : {}) }
    const result = await checkOutbox(session, {
      table: { url, table: flags.table ?? profile.table ?? 'outbox', columns, timeoutMs: session.connection.timeoutMs },
      topicPrefix: flags['topic-prefix'] ?? profile.topicPrefix ?? 'outbox.event.',
      topics: flags.topic,
      aggregateTypes: flags['aggregate-type'],
      sinceMs: parseSince(flags.since),
      graceMs: flags.grace,
      onWarning: this.warning,
    })
    this.out(flags.json ? JSON.stringify(result) : renderOutboxCheck(result))
    const counts = findingCounts(result)
    const failed = failOn.filter((kind) => counts[kind] > 0)
    if (failed.length) throw new EvtError('expectation', `outbox check failed: ${failed.map((k) => `${counts[k]} ${k}`).join(', ')}`, { hint: 'the tables above name each row and record' })
  }
}

function parseFailOn(text: string | undefined): OutboxFinding[] {
  if (!text) return []
  const kinds = text.split(',').map((s) => s.trim()).filter(Boolean)
  for (const k of kinds) if (!(OUTBOX_FINDINGS as readonly string[]).includes(k)) throw usageError(`--fail-on: "${k}" is not a finding`, `use some of: ${OUTBOX_FINDINGS.join(', ')}`)
  return kinds as OutboxFinding[]
}

