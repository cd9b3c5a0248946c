import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { ExitCode, usageError } from '../errors.ts'
import { compileCel } from '../filter.ts'
import { connectionFlags, filterFlag, jsonFlag, parsePartitionList, partitionFlag, progressFlag, rateFlag, withEnv, writeFlags } from '../flags.ts'
import { parsePositionRange } from '../kafka/positions.ts'
import { renderCopyProgress, renderCopySummary, renderGroupReplayDone, renderReplayPlan } from '../output/replay.ts'
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
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    from: Flags.string({ summary: 'Where the replay starts (tail\'s position grammar).' }),
    to: Flags.string({ summary: 'Where it ends, exclusive (default: the end when it starts). Copy only.' }),
    ...partitionFlag(),
    group: Flags.string({ summary: 'Target: position this consumer group at --from.', exclusive: ['to-topic'] }),
    'to-topic': Flags.string({ summary: 'Target: copy the records into this topic.' }),
    partitioning: Flags.option({ options: ['same', 'key', 'round-robin'] as const, summary: 'Target partition of each copied record (default: same number when the target has enough partitions, else by key).' })(),
    'keep-timestamps': Flags.boolean({ summary: 'Keep the source records\' timestamps (default: the time of the copy).' }),
    ...filterFlag({ summary: 'Copy only records for which this CEL expression is true.' }),
    ...rateFlag,
    ...writeFlags(),
    resume: Flags.string({ summary: 'Resume the copy with this replay id.' }),
    ...progressFlag,
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Replay)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    if (flags.resume) return this.resume(session, loadReplay(flags.resume), flags)
    if (!args.topic) throw usageError('which topic? (or --resume <replay-id>)', 'e.g. evt replay orders.events --from @-1h --to-topic orders.replay')
    if (!flags.from) throw usageError('--from is required', 'e.g. --from start, --from @-2h, --from 1500')
    if (!flags.group && !flags['to-topic']) throw usageError('choose a target: --group <name> or --to-topic <name>', 'see evt replay --help')
    if (flags.group && flags.to) throw usageError('--to makes no sense with --group: a consumer group has no end', 'to replay a bounded range, copy it with --to-topic')
    const from = parsePositionRange(flags.from)
    if (from.to) throw usageError('--from takes one position; give the end with --to', 'e.g. --from @-2h --to @-1h')
    const range = { from: from.from, to: flags.to ? parsePositionRange(flags.to).from : undefined }
    if (flags.filter) compileCel(flags.filter) // a filter that does not compile is a usage error before anything else
    const plan = await planReplay(session, { source: args.topic, range, partitions: parsePartitionList(flags.partition), group: flags.group, toTopic: flags['to-topic'], partitioning: flags.partitioning })
    if (plan.mode === 'group') {
      await this.plannedWrite(flags, {
        plan,
        render: renderReplayPlan,
        refuse: refuseActiveGroup,
        question: `Move the offsets of group "${plan.target}"?`,
        execute: () => applyGroupReplay(session, plan),
        result: () => ({ json: { done: true, group: plan.target }, text: renderGroupReplayDone(plan) }),
      })
      return
    }
    const summary = await this.plannedWrite(flags, {
      plan,
      render: renderReplayPlan,
      refuse: refuseActiveGroup,
      question: `Copy into "${plan.target}"?`,
      execute: () => this.copy(session, defineCopy(session.connection, plan, { keepTimestamps: flags['keep-timestamps'], filter: flags.filter, rate: flags.rate }), flags),
      result: (s) => ({ json: { summary: s }, text: renderCopySummary(s) }),
    })
    if (summary) this.interrupted(summary)
  }

  private async resume(session: KafkaSession, def: ReturnType<typeof loadReplay>, flags: { json: boolean; yes: boolean; progress: boolean }): Promise<void> {
    this.note(`resuming replay ${def.id}: ${def.source} → ${def.target}`)
    await confirmWrite(`Resume copying into "${def.target}"?`, { yes: flags.yes })
    const summary = await this.copy(session, def, flags)
    this.out(flags.json ? JSON.stringify({ summary }) : renderCopySummary(summary))
    this.interrupted(summary)
  }

  /** Runs a copy (new or resumed) with the progress reporter and Ctrl-C; returns its summary. */
  private async copy(session: KafkaSession, def: ReturnType<typeof loadReplay>, flags: { progress: boolean }): Promise<CopySummary> {
    this.note(`replay id ${def.id} (if interrupted: evt replay --resume ${def.id})`)
    const interrupt = this.interruptSignal()
    const progress = this.progress(flags)
    const summary = await runCopy(session, def, {
      filter: def.filter ? compileCel(def.filter, '--filter', (m) => this.note(`evt: warning: ${m}`)) : undefined,
      signal: interrupt.signal,
      onWarning: (m) => this.note(`evt: warning: ${m}`),
      onProgress: (p) => progress.update(p.done, p.total, renderCopyProgress(p)),
    })
    progress.stop()
    return summary
  }

  /** An interrupted copy: say how to resume, exit 130. */
  private interrupted(summary: CopySummary): void {
    if (summary.interrupted) {
      this.note(`interrupted: the open transaction was aborted. Resume with: evt replay --resume ${summary.id}`)
      process.exitCode = ExitCode.Interrupted
    }
  }
}
