import { Args, Flags } from '@oclif/core'
import chalk from 'chalk'
import { EvtCommand } from '../base-command.ts'
import { EvtError, ExitCode, usageError } from '../errors.ts'
import { connectionFlags, formatFlag, jsonFlag, noUiFlag, strictFlag, withEnv } from '../flags.ts'
import { followUpdateLines, renderTrace, searchSummary, waitingLine } from '../output/trace.ts'
import { describeStoreUrl, openIndexStore, parseStoreSpec } from '../index-store/open.ts'
import type { IndexStore } from '../index-store/types.ts'
import { trace, type TraceResult } from '../services/trace.ts'
import { checkExpectations, expectationsDecided, missingExpectations } from '../trace/expect.ts'
import { parseDuration, parseTimeout, parseWhen } from '../time.ts'

export default class Trace extends EvtCommand {
  static override summary = 'Follow one request across every topic and service, as a causal tree.'
  static override description = `Finds every record carrying the correlation id — in the seed envelope (metadata.correlation_id), CloudEvents (ce_correlationid), W3C traceparent (trace id), B3, Axon, MassTransit, NServiceBus, Debezium outbox or plain correlation headers — and links them by causation id (or parent span) into a tree, with the delay of each hop, where each record stands with the consumer groups reading its topic, and anomalies: duplicates, dead-lettered hops, key ≠ aggregate id, one aggregate on several partitions, occurred_at going backwards, commands disguised as events, hops stamped before their parent (clock skew), and stalled requests (--stall-after). Records without an envelope are named by common type headers and value fields (__TypeId__, type, eventType, …) or a one-line preview of their value.

Reads all partitions in parallel without a consumer group, from --since to the end offsets taken at start. With --index (or the profile's trace.index), the records are looked up in a trace index (evt index run) and fetched by offset; only what the index has not reached yet is scanned, and partitions it does not cover from --since are scanned in full (the summary line says which part came from where). With --expect it waits (following live) until the listed event types have appeared: exit 0, or exit 5 listing what is missing after --timeout (with --expect-order, at once when the order is already violated).`
  static override examples = [
    { description: 'What happened to this request in the last 24 hours?', command: '<%= config.bin %> <%= command.id %> req_abc123' },
    { description: 'Only some topics, a week back, as a timeline', command: '<%= config.bin %> <%= command.id %> req_abc123 -t "orders.*" -t payments.events --since 7d -f timeline' },
    { description: 'CI smoke test: the order must be confirmed, paid and shipped within a minute', command: '<%= config.bin %> <%= command.id %> req_abc123 --expect OrderConfirmed,PaymentCaptured,ShipmentCreated --timeout 60s' },
    { description: 'A sequence diagram for the incident write-up', command: '<%= config.bin %> <%= command.id %> req_abc123 -f mermaid > trace.mmd' },
    { description: 'Through the local trace index (evt index run): a lookup, plus a scan of what it has not reached yet', command: '<%= config.bin %> <%= command.id %> req_abc123 --index local' },
    { description: 'An OpenTelemetry-only estate: trace by W3C trace id; flag requests idle for 2 minutes as stalled', command: '<%= config.bin %> <%= command.id %> 4bf92f3577b34da6a3ce929d0e0e4736 --stall-after 2m' },
  ]
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'Correlation id (or W3C trace id) of the request.', required: true }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...strictFlag,
    timeout: Flags.custom<number>({
      summary: 'With --expect or --follow: how long to wait, e.g. 60s. Also bounds connecting (at most 10 s).',
      env: 'EVT_TIMEOUT',
      parse: async (input) => parseTimeout(input, '--timeout'),
      helpGroup: 'CONNECTION',
    })(),
    topic: Flags.string({ char: 't', summary: 'Topics to search (names or globs). Repeatable. Default: every topic not starting with __.', multiple: true }),
    since: Flags.string({ summary: 'Window start: a duration ago (24h, 7d) or a time (RFC 3339, date, epoch ms).', default: '24h' }),
    until: Flags.string({ summary: 'Window end (same forms). Default: the end of each partition when the search starts.' }),
    ...formatFlag({ options: ['tree', 'timeline', 'json', 'mermaid', 'dot'] as const, summary: 'Output format (default: tree on a terminal, json when piped; --json is -f json).', env: 'EVT_TRACE_FORMAT' }),
    ...jsonFlag,
    follow: Flags.boolean({ summary: 'Keep watching for new records of this request (Ctrl-C to stop).' }),
    ...noUiFlag,
    expect: Flags.string({ summary: 'Event types that must appear (comma list); waits for them until --timeout.' }),
    'expect-order': Flags.boolean({ summary: 'With --expect: the types must first appear in the order given; exit 5 as soon as they do not.' }),
    'stall-after': Flags.custom<number>({
      summary: 'Flag the request STALLED when a record waits this long for a group that reads its topic, or nothing follows its last consumed record (e.g. 5m). Default: the profile\'s trace.stallAfter, else 5m.',
      env: 'EVT_TRACE_STALL_AFTER',
      parse: async (input) => parseDuration(input, '--stall-after'),
    })(),
    'fail-empty': Flags.boolean({ summary: 'Exit 5 when no record is found.' }),
    index: Flags.string({ summary: 'Look records up in this trace index (local, local:<name> or a postgres:// URL; see evt index run) and scan only what it has not reached; an index that cannot be opened is skipped with a warning. Default: the profile\'s trace.index.', env: 'EVT_TRACE_INDEX' }),
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Trace)
    if (args.id.trim() === '') throw usageError('the correlation id is empty', 'e.g. evt trace req_abc123')
    const now = Date.now()
    const since = parseWhen(flags.since, '--since', now)
    const until = flags.until ? parseWhen(flags.until, '--until', now) : undefined
    if (until !== undefined && until <= since) throw usageError('--until must be after --since', 'e.g. --since 2h --until 1h')
    const expected = flags.expect?.split(',').map((s) => s.trim()).filter(Boolean)
    if (flags['expect-order'] && !expected?.length) throw usageError('--expect-order needs --expect', 'e.g. --expect OrderPlaced,PaymentCaptured --expect-order')
    if ((flags.follow || expected?.length) && until !== undefined) throw usageError('--follow and --expect watch new records: they cannot be combined with --until', 'drop --until')
    const format = this.outputFormat(flags, { tty: 'tree', piped: 'json' })
    const waitMs = flags.timeout ?? 60_000
    const session = this.session({ ...flags, timeout: Math.min(waitMs, 10_000) })
    const indexValue = flags.index ?? session.connection.trace?.index
    const spec = indexValue ? parseStoreSpec(indexValue) : undefined
    // an index that cannot be opened (server down) must not stop an incident's trace: the scan answers, and says why
    const opened: IndexStore | undefined = spec
      ? await openIndexStore(spec, { create: false }).catch((err: Error) => {
          this.note(`evt: warning: the trace index cannot be used (${err.message}); scanning instead`)
          return undefined
        })
      : undefined
    // an index name nobody has indexed into (a typo, or no worker started yet): say so, and scan
    if (opened && !opened.exists) {
      this.note(`evt: warning: there is no index "${spec!.name}" in ${opened.description}; scanning instead (index into it first: evt index run <topics…> --store ${spec!.kind === 'local' ? indexValue : describeStoreUrl(indexValue!)})`)
      await opened.close()
    }
    const index = opened?.exists ? opened : undefined

    const interrupt = this.interruptSignal()
    let viewInterrupted = false
    const live = Boolean(flags.follow || expected?.length)
    // --expect waits at most --timeout (default 60 s); --follow runs until stopped, or --timeout if given
    const timer = live && (expected?.length || flags.timeout !== undefined) ? setTimeout(() => interrupt.abort(), waitMs) : undefined
    const printed = new Set<string>()
    const started = Date.now()
    const view = flags.follow && this.liveView({ ...flags, format }, { uiFormat: 'tree' })
      ? (await import('../ui/trace-follow.tsx')).startTraceFollowView((reason) => {
          viewInterrupted = reason === 'interrupt'
          interrupt.abort()
        })
      : undefined
    let result: TraceResult
    try {
      result = await trace(session, {
        id: args.id,
        topics: flags.topic,
        since,
        until,
        live,
        signal: interrupt.signal,
        stopWhen: expected?.length && !flags.follow ? (records) => expectationsDecided(records, expected, flags['expect-order']) : undefined,
        stallAfterMs: flags['stall-after'],
        onWarning: (m) => this.note(`evt: warning: ${m}`),
        strict: flags.strict,
        index,
        onUpdate: (r) => (view ? view.update(r) : flags.follow ? followUpdateLines(r, format, printed).forEach((l) => this.note(l)) : this.waiting(r, expected ?? [], waitMs)),
      })
    } finally {
      clearTimeout(timer)
      await view?.end()
      await index?.close()
    }
    const elapsed = Date.now() - started
    if (!view) this.out(renderTrace(result, format, elapsed)) // the live view leaves its last frame on screen
    if (interrupt.interrupted || viewInterrupted) {
      this.note(`interrupted: ${live ? 'stopped following' : 'the search did not finish, the result above is partial'} (${result.scanned} records scanned)`)
      process.exitCode = ExitCode.Interrupted
      return
    }
    if (expected?.length) {
      checkExpectations(args.id, result.records, expected, flags['expect-order'], elapsed)
      this.note(chalk.green(`all expected event types seen: ${expected.join(', ')}`))
      return
    }
    if (result.records.length === 0 && flags['fail-empty']) throw new EvtError('expectation', `no records of ${args.id}`, { hint: `${searchSummary(result)}; widen --since or -t` })
  }

  /** --expect without --follow: one line when the wait starts, nothing per record (the result comes at the end). */
  private waiting(r: TraceResult, expected: string[], waitMs: number): void {
    if (r.live && !this.waitNoted) {
      this.waitNoted = true
      this.note(waitingLine(r, missingExpectations(r.records, expected), expected, waitMs))
    }
  }

  private waitNoted = false
}
