import { Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { EvtError } from '../../errors.ts'
import { connectionFlags, jsonFlag, outboxFlags, withEnv } from '../../flags.ts'
import { outboxTarget } from '../../outbox/target.ts'
import { renderOutboxCheck } from '../../output/outbox.ts'
import { checkOutbox, findingCounts, OUTBOX_FINDINGS, parseFailOn } from '../../services/outbox-check.ts'
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

An --aggregate-type that no row of the window has is warned about on stderr, with the aggregate types the window's rows do have.

If the table holds no rows at all (deleted once written, a common Debezium setup), only duplicates, order and lag can be checked: evt says so.

--json prints {"window":{"since","until"},"table","topics","graceMs","rowsKept","rows","records","published","pending","unpublished","duplicates","unknownOrigin","reordered","lag"} (docs/schemas/outbox-check.schema.json). --fail-on lists findings that end the command with exit 5.`
  static override examples = [
    { description: 'The last hour of the local outbox relay', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt' },
    { description: 'The last 15 minutes; exit 5 on unpublished or duplicated rows (CI)', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt --since 15m --fail-on unpublished,duplicate' },
    { description: 'Relay lag per aggregate type, as JSON', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt --json | jq .lag' },
  ]
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    ...outboxFlags,
    since: Flags.string({ summary: 'Window start: a duration ago (15m, 1h, 2d) or a time (RFC 3339, a date, epoch).', default: '1h', env: 'EVT_OUTBOX_SINCE' }),
    'fail-on': Flags.string({ summary: `Exit 5 when there is a finding of these kinds (comma-separated: ${OUTBOX_FINDINGS.join(', ')}).`, env: 'EVT_OUTBOX_FAIL_ON' }),
  })

  async run(): Promise<void> {
    const { flags } = await this.parse(OutboxCheck)
    this.setJsonOutput(flags.json)
    const failOn = parseFailOn(flags['fail-on'])
    const session = this.session(flags)
    const result = await checkOutbox(session, {
      ...outboxTarget(flags, session.connection.outbox, session.connection.timeoutMs),
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
