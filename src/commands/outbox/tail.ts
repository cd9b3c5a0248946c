import { Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { ExitCode } from '../../errors.ts'
import { connectionFlags, jsonFlag, noUiFlag, outboxFlags, withEnv } from '../../flags.ts'
import { outboxTarget } from '../../outbox/target.ts'
import { parseSince } from '../../outbox/window.ts'
import { outboxTailJson, renderOutboxTailEvent } from '../../output/outbox.ts'
import { StdoutSink } from '../../output/sink.ts'
import { tailOutbox } from '../../services/outbox-tail.ts'
import { parseDuration } from '../../time.ts'

export default class OutboxTail extends EvtCommand {
  static override summary = 'Follow an outbox table and the relay\'s topics: where each row landed, how long it took, which are late.'
  static override description = `Reads new rows of the outbox table (PostgreSQL, read-only, polled every --poll) and the relay's topics (every topic starting with --topic-prefix, or --topic, as they exist at start; without a consumer group) at once, and prints one line per row once it is on Kafka:

  <written>  published   <aggregate type>/<aggregate id>  <type>  <id>  → <topic>/<partition>@<offset>  +<relay lag>

a LATE line for a row not on Kafka --grace after it was written (PUBLISHED* when it lands later), and an UNKNOWN line for a record whose event id the table does not have, or that carries none. Rows and records from --since on (default: from now). Runs until Ctrl-C (exit 130), or until -n rows have landed or been reported late. On a terminal (without -n, --json or --no-ui) it is a live view: the newest rows, each waiting, LATE or with where it landed, and the counters and relay lag on top; q quits.

--json prints one line per event: {"kind":"published","row":{"id","aggregateType","aggregateId","type","writtenAt"},"at":{"topic","partition","offset","timestamp"},"lagMs","wasLate"}, {"kind":"late","row",…,"ageMs"} or {"kind":"unknown","at","eventId"} (docs/schemas/outbox-tail.schema.json). Table and column settings as for outbox check.`
  static override examples = [
    { description: 'Follow the local outbox relay', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt' },
    { description: 'The last hour, then keep following, as JSON lines', command: '<%= config.bin %> <%= command.id %> --db postgres://postgres@127.0.0.1:15432/evt --since 1h --json' },
  ]
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    ...noUiFlag,
    ...outboxFlags,
    since: Flags.string({ summary: 'Start: a duration ago (10m) or a time (RFC 3339, a date, epoch). Default: now.', env: 'EVT_OUTBOX_SINCE' }),
    poll: Flags.custom<number>({ summary: 'How often to read the table for new rows, e.g. 500ms.', default: 500, defaultHelp: async () => '500ms', parse: async (v) => parseDuration(v, '--poll'), env: 'EVT_OUTBOX_POLL' })(),
    'max-rows': Flags.integer({ char: 'n', min: 1, summary: 'Stop after this many rows have landed or been reported late.', env: 'EVT_OUTBOX_MAX_ROWS' }),
  })

  async run(): Promise<void> {
    const { flags } = await this.parse(OutboxTail)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    const target = outboxTarget(flags, session.connection.outbox, session.connection.timeoutMs)
    const controller = new AbortController()
    const enough = new AbortController() // -n reached: stop both readers
    const onSigint = () => controller.abort()
    process.on('SIGINT', onSigint)
    const sink = new StdoutSink(() => controller.abort())
    let rows = 0
    let quit = false
    // the live view on a terminal; -n, --json and --no-ui print lines
    const live = this.liveView(flags, { bounded: flags['max-rows'] !== undefined })
    try {
      const events = tailOutbox(session, {
        ...target,
        sinceMs: flags.since ? parseSince(flags.since) : Date.now(),
        graceMs: flags.grace,
        pollMs: flags.poll,
        signal: AbortSignal.any([controller.signal, enough.signal]),
        onWarning: this.warning,
        announceWritten: live,
      })
      if (live) {
        const { runOutboxTailLiveView } = await import('../../ui/outbox-tail-live.tsx')
        const title = `${target.table.table} → ${target.topics?.join(', ') ?? `${target.topicPrefix}*`}`
        await runOutboxTailLiveView(events, { title, abort: (reason) => { quit = reason === 'quit'; controller.abort() } })
      } else for await (const e of events) {
        await sink.write([`${flags.json ? outboxTailJson(e) : renderOutboxTailEvent(e)}\n`])
        if (e.kind === 'late' || (e.kind === 'published' && !e.wasLate)) rows++
        if (flags['max-rows'] !== undefined && rows >= flags['max-rows']) {
          enough.abort()
          break
        }
      }
    } finally {
      process.removeListener('SIGINT', onSigint)
    }
    if (controller.signal.aborted && !sink.closed && !quit) process.exitCode = ExitCode.Interrupted
  }
}
