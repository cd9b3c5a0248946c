import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { ExitCode, usageError } from '../errors.ts'
import { compileCel } from '../filter.ts'
import { connectionFlags, jsonFlag, parsePartitionList } from '../flags.ts'
import { parsePositionRange } from '../kafka/positions.ts'
import { renderCopyProgress, renderCopySummary, renderReplayPlan } from '../output/replay.ts'
import { loadReplay } from '../replay/state.ts'
import { applyGroupReplay, defineCopy, planReplay, refuseActiveGroup, runCopy, type CopySummary } from '../services/replay.ts'
import { confirmWrite } from '../ui/confirm.ts'

export default class Replay extends EvtCommand {
  static override summary = 'Replay a range of a topic into a consumer group or another topic: planned, exactly once, resumable.'
  static override description = `Two targets:
  --group <name>     set the group's committed offsets to --from, so the service using it re-consumes (refused while the group has active members).
  --to-topic <name>  copy the records (keys, values, headers unchanged; provenance headers evt-replay-source and evt-replay-id added) with a transactional producer; progress is committed in the same transactions, so --resume <id> after a crash or Ctrl-C copies exactly the rest.

Positions (--from, --to) use tail's grammar: <offset>, +N, -N, @<time>, @-<duration>, start, end. Without --to the end is the end offset when the replay starts: a replay never chases its own output.

The plan (offsets, record counts, time span, bytes per partition) is always printed first. --dry-run stops there; otherwise confirm on a terminal, or pass --yes.

evt replay status lists copy replays (running, finished, interrupted) with their progress; evt replay clean removes the progress groups and state files of finished ones.`
  static override examples = [
    { description: 'Backfill a new service from the beginning', command: '<%= config.bin %> <%= command.id %> orders.events --from start --group invoice-service-v2 --yes' },
    { description: 'Re-process yesterday 14:00–15:00 for the shipping service (stopped first)', command: '<%= config.bin %> <%= command.id %> orders.events --from @2026-11-28T14:00:00Z --group shipping-service --dry-run' },
    { description: 'Copy an incident window into a scratch topic to reproduce it', command: '<%= config.bin %> <%= command.id %> payments.events --from @-2h --to @-1h --to-topic payments.incident-1234 --yes' },
    { description: 'Only failed payments, slowly, keeping timestamps', command: '<%= config.bin %> <%= command.id %> payments.events --from start --to-topic payments.retry --filter \'value.event_type == "PaymentFailed"\' --rate 200 --keep-timestamps --yes' },
    { description: 'Resume an interrupted copy', command: '<%= config.bin %> <%= command.id %> --resume rp-20261129-141500-3fa2 --yes' },
  ]
  static override args = {
    topic: Args.string({ ignoreStdin: true, description: 'Source topic (not needed with --resume).' }),
  }
  static override flags = {
    ...connectionFlags,
    ...jsonFlag,
    from: Flags.string({ summary: 'Where the replay starts (tail\'s position grammar).' }),
    to: Flags.string({ summary: 'Where it ends, exclusive (default: the end when it starts). Copy only.' }),
    partition: Flags.string({ char: 'p', summary: 'Only these partitions (0,2 or 0-3).', multiple: true }),
    group: Flags.string({ summary: 'Target: position this consumer group at --from.', exclusive: ['to-topic'] }),
    'to-topic': Flags.string({ summary: 'Target: copy the records into this topic.' }),
    partitioning: Flags.option({ options: ['same', 'key', 'round-robin'] as const, summary: 'Target partition of each copied record (default: same number when the target has enough partitions, else by key).' })(),
    'keep-timestamps': Flags.boolean({ summary: 'Keep the source records\' timestamps (default: the time of the copy).' }),
    filter: Flags.string({ summary: 'Copy only records for which this CEL expression is true.' }),
    rate: Flags.integer({ summary: 'At most this many records per second.', min: 1 }),
    'dry-run': Flags.boolean({ summary: 'Print the plan and stop: nothing is written.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation (needed without a terminal).' }),
    resume: Flags.string({ summary: 'Resume the copy with this replay id.' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Replay)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    if (flags.resume) return this.copy(session, loadReplay(flags.resume), flags, true)
    if (!args.topic) throw usageError('which topic? (or --resume <replay-id>)', 'e.g. evt replay orders.events --from @-1h --to-topic orders.replay')
    if (!flags.from) throw usageError('--from is required', 'e.g. --from start, --from @-2h, --from 1500')
    if (!flags.group && !flags['to-topic']) throw usageError('choose a target: --group <name> or --to-topic <name>', 'see evt replay --help')
    if (flags.group && flags.to) throw usageError('--to makes no sense with --group: a consumer group has no end', 'to replay a bounded range, copy it with --to-topic')
    const from = parsePositionRange(flags.from)
    if (from.to) throw usageError('--from takes one position; give the end with --to', 'e.g. --from @-2h --to @-1h')
    const range = { from: from.from, to: flags.to ? parsePositionRange(flags.to).from : undefined }
    if (flags.filter) compileCel(flags.filter) // a filter that does not compile is a usage error before anything else
    const plan = await planReplay(session, { source: args.topic, range, partitions: parsePartitionList(flags.partition), group: flags.group, toTopic: flags['to-topic'], partitioning: flags.partitioning })
    this.out(flags.json ? JSON.stringify({ plan }) : renderReplayPlan(plan))
    refuseActiveGroup(plan)
    if (flags['dry-run']) return
    await confirmWrite(plan.mode === 'group' ? `Move the offsets of group "${plan.target}"?` : `Copy into "${plan.target}"?`, { yes: flags.yes })
    if (plan.mode === 'group') {
      await applyGroupReplay(session, plan)
      this.out(flags.json ? JSON.stringify({ done: true, group: plan.target }) : `group "${plan.target}" now starts at ${plan.partitions.map((p) => `${p.partition}:${p.start}`).join(', ')} on ${plan.source}`)
      return
    }
    const def = defineCopy(session.connection, plan, { keepTimestamps: flags['keep-timestamps'], filter: flags.filter, rate: flags.rate })
    return this.copy(session, def, flags, false)
  }

  private async copy(session: KafkaSession, def: ReturnType<typeof loadReplay>, flags: { json: boolean; yes: boolean }, resumed: boolean): Promise<void> {
    if (resumed) {
      this.note(`resuming replay ${def.id}: ${def.source} → ${def.target}`)
      await confirmWrite(`Resume copying into "${def.target}"?`, { yes: flags.yes })
    }
    this.note(`replay id ${def.id} (if interrupted: evt replay --resume ${def.id})`)
    const controller = new AbortController()
    const onSigint = () => controller.abort()
    process.on('SIGINT', onSigint)
    let last = 0
    let summary: CopySummary
    try {
      summary = await runCopy(session, def, {
        filter: def.filter ? compileCel(def.filter, '--filter', (m) => this.note(`evt: warning: ${m}`)) : undefined,
        signal: controller.signal,
        onWarning: (m) => this.note(`evt: warning: ${m}`),
        onProgress: (p) => {
          if (Date.now() - last < (process.stderr.isTTY ? 200 : 2000)) return
          last = Date.now()
          process.stderr.write(process.stderr.isTTY ? `\r${renderCopyProgress(p)}\u001b[K` : `${renderCopyProgress(p)}\n`)
        },
      })
    } finally {
      process.removeListener('SIGINT', onSigint)
      if (process.stderr.isTTY && last) process.stderr.write('\n')
    }
    this.out(flags.json ? JSON.stringify({ summary }) : renderCopySummary(summary))
    if (summary.interrupted) {
      this.note(`interrupted: the open transaction was aborted. Resume with: evt replay --resume ${def.id}`)
      process.exitCode = ExitCode.Interrupted
    }
  }
}
