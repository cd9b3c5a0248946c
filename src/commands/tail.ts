import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { ExitCode, usageError } from '../errors.ts'
import { combineFilters, compileCel, headerMatch, keyGlob, type RecordFilter } from '../filter.ts'
import { connectionFlags, exitFlag, filterFlags, formatFlag, isolationFlag, jsonFlag, maxMessagesFlag, noUiFlag, offsetFlag, parsePartitionList, partitionFlag, strictFlag, withEnv } from '../flags.ts'
import { parsePositionRange } from '../kafka/positions.ts'
import { recordRenderer, TEMPLATE_TOKENS } from '../output/records.ts'
import { StdoutSink } from '../output/sink.ts'
import { tailRecords, type TailStats } from '../services/tail.ts'
import { plural } from '../output/plural.ts'

export default class Tail extends EvtCommand {
  static override summary = 'Print records of topics, live or over a range, decoded and filtered.'
  static override description = `Reads by partition assignment without joining a consumer group: the first record shows at once and no group is left behind.

Positions (-o): start | end | <offset> | +N (N after start) | -N (N before end) | @<time> | @-<duration>, and ranges FROM:TO with TO exclusive (100:200, -50:end, @-2h:-1h, @2026-11-29:2026-11-30). Times are epoch ms, RFC 3339 or a date.

Formats: pretty (default on a terminal), json (JSON lines; default when piped; --json is the same), raw (value bytes), or --template with ${TEMPLATE_TOKENS}. Schema of a JSON line: docs/schemas/tail.schema.json.`
  static override examples = [
    { description: 'Follow new records of a topic', command: '<%= config.bin %> <%= command.id %> orders.events' },
    { description: 'The last 10 records of each partition, then exit', command: '<%= config.bin %> <%= command.id %> orders.events -o -10 -e' },
    { description: 'Yesterday 14:00–15:00 (UTC) as JSON lines, into jq', command: '<%= config.bin %> <%= command.id %> orders.events -o @2026-11-28T14:00:00Z:2026-11-28T15:00:00Z | jq .value' },
    { description: 'Only one event type, from the start, several topics', command: '<%= config.bin %> <%= command.id %> orders.events payments.events -o start -e --filter \'value.event_type == "PaymentCaptured"\'' },
    { description: 'kcat-style template', command: '<%= config.bin %> <%= command.id %> orders.events -o start -e --template \'%t/%p@%o %k %v\\n\'' },
  ]
  static override strict = false
  static override args = {
    topics: Args.string({ ignoreStdin: true, description: 'Topics to read (with -r: regular expressions).', required: true }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...strictFlag,
    ...offsetFlag({ default: 'end', summary: 'Where to start (and stop): see the description.' }),
    ...partitionFlag(),
    ...exitFlag,
    ...maxMessagesFlag,
    regex: Flags.boolean({ char: 'r', summary: 'Treat the topic arguments as regular expressions.' }),
    ...formatFlag({ options: ['pretty', 'json', 'raw'] as const, summary: 'Output format (default: pretty on a terminal, json when piped).' }),
    ...jsonFlag,
    template: Flags.string({ summary: 'Print each record with this template (kcat-like tokens; see the description).' }),
    ...noUiFlag,
    ...filterFlags,
    ...isolationFlag,
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Tail)
    const topics = argv as string[]
    const range = parsePositionRange(flags.offset)
    if (flags.exit && !range.to) range.to = { kind: 'end' }
    const filters: RecordFilter[] = []
    if (flags.filter) filters.push(compileCel(flags.filter, '--filter', (m) => this.note(`evt: warning: ${m}`)))
    if (flags.key) filters.push(keyGlob(flags.key))
    for (const h of flags.header ?? []) filters.push(headerMatch(h))
    if (flags.template && (flags.format || flags.json)) throw usageError('--template and -f/--format (or --json) cannot be combined', 'use one of them')
    const render = recordRenderer(this.outputFormat(flags, { tty: 'pretty', piped: 'json' }), flags.template)

    const interrupt = this.interruptSignal()
    const sink = new StdoutSink(() => interrupt.abort())
    const stats: TailStats = { scanned: 0, matched: 0, bytes: 0 }
    let quit = false
    const source = tailRecords(this.session(flags), {
      topics,
      regex: flags.regex,
      range,
      partitions: parsePartitionList(flags.partition),
      maxMessages: flags['max-messages'],
      filter: combineFilters(filters),
      isolation: flags.isolation,
      signal: interrupt.signal,
      onWarning: (m) => this.note(`evt: warning: ${m}`),
      strict: flags.strict,
    }, stats)
    // a bounded read (-e, -n, a range with an end) prints plainly, so every record stays in the
    // terminal's scrollback; the live view is for following
    if (this.liveView(flags, { bounded: Boolean(range.to) || flags['max-messages'] !== undefined })) {
      const { runTailLiveView } = await import('../ui/tail-live.tsx')
      await runTailLiveView(source, { topics, stats, abort: (reason) => { quit = reason === 'quit'; interrupt.abort() } })
    } else for await (const records of source) await sink.write(records.map(render))
    if (interrupt.signal.aborted && !sink.closed && !quit) {
      this.note(`\n${plural(stats.matched, 'record')} shown (${stats.scanned} read)`)
      process.exitCode = ExitCode.Interrupted
    }
  }
}
