import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { ExitCode } from '../../errors.ts'
import { compileDlqCel } from '../../dlq/filter.ts'
import { DLQ_GROUP_BY, parseGroupSelector } from '../../dlq/group.ts'
import { connectionFlags, filterFlag, jsonFlag, offsetFlag, parsePartitionList, partitionFlag, progressFlag, rateFlag, withEnv, writeFlags } from '../../flags.ts'
import { parsePositionRange } from '../../kafka/positions.ts'
import { renderRequeuePlan, renderRequeueProgress, renderRequeueSummary } from '../../output/dlq-requeue.ts'
import { planRequeue, refuseHeldBack, refuseMissingTargets, runRequeue, unallowedTargets, type RequeueRequest } from '../../services/dlq-requeue.ts'
import { canPrompt, confirmWrite } from '../../ui/confirm.ts'
import { plural } from '../../output/plural.ts'

export default class DlqRequeue extends EvtCommand {
  static override summary = 'Send dead-letter records back to where they came from: planned, exactly once, idempotent.'
  static override description = `Each record goes to its original topic (from its dead-letter headers) or to --to, keeping key, value and headers; the dead-letter error headers are removed (--keep-error-headers keeps them), evt-requeue-count is incremented and evt-requeued-from (dlq topic/partition/offset) added. It lands on its original partition when known and present, else by key.

Write guards: records whose dead-letter headers name an internal topic (__*, _schemas, Kafka Connect's config/offset/status topics) are skipped as internal-topic (--to may name any topic but a __* one). A target that does not follow the DLQ's naming convention (orders.events-dlt → orders.events) is marked in the plan and needs --allow-target <topic>, or a confirmation naming it on a terminal.

Loop guard: records already requeued --max-requeues times (default 3) are skipped and reported.

Exactly once and idempotent: writes are transactional, and the DLQ offsets are committed in the same transactions to a progress group named after the DLQ topic and the selection (filter, --group-by, --to). Running the same requeue again sends nothing; after a crash or Ctrl-C, running it again continues where it stopped.

Requeue ledger: each requeued record also gets an entry in <dlq>.evt-requeued (a compacted topic created by the first requeue), written in the same transaction. Every later requeue of that DLQ — whatever its selection, and from the dlq inspect browser too — skips records the ledger lists, reporting them as already-requeued with when and where to; --again sends them again.

The plan (records per target topic and per failure class, and what is skipped) is printed first; --dry-run stops there; otherwise confirm on a terminal, or pass --yes.`
  static override examples = [
    { description: 'See what would be sent back, then do it', command: '<%= config.bin %> <%= command.id %> payments.events-dlt --dry-run' },
    { description: 'Requeue only the timeouts, once the gateway is fixed (Spring wraps them: the timeout is the cause)', command: '<%= config.bin %> <%= command.id %> payments.events-dlt --filter \'failure.cause.endsWith("TimeoutException")\' --yes' },
    { description: 'Send records that were requeued before once more', command: '<%= config.bin %> <%= command.id %> payments.events-dlt --again --yes' },
    { description: 'Everything from the last hour into a retry topic', command: '<%= config.bin %> <%= command.id %> payments.events-dlt -o @-1h --to payments.retry --yes' },
  ]
  static override args = {
    topic: Args.string({ ignoreStdin: true, description: 'The dead-letter topic.', required: true }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    ...offsetFlag({ default: 'start:end', summary: 'Which DLQ records: positions as in tail (an open end stops at the end taken at start).' }),
    ...partitionFlag({ summary: 'Only these DLQ partitions (0,2 or 0-3). Repeatable.' }),
    ...filterFlag({ summary: 'Only records for which this CEL expression is true (sees the record and `failure`, as in dlq inspect).' }),
    'group-by': Flags.string({ summary: `Only one failure class: <${DLQ_GROUP_BY.join('|')}>=<value>, as dlq inspect --group-by shows them.`, env: 'EVT_DLQ_REQUEUE_GROUP_BY' }),
    to: Flags.string({ summary: 'Send every record to this topic instead of its original topic.', env: 'EVT_DLQ_REQUEUE_TO' }),
    'allow-target': Flags.string({ summary: 'Also requeue to this topic when it does not follow the DLQ\'s naming convention (repeatable).', multiple: true }),
    'keep-error-headers': Flags.boolean({ summary: 'Keep the dead-letter error headers on the requeued records.' }),
    'max-requeues': Flags.integer({ summary: 'Skip records already requeued this many times.', default: 3, min: 1 }),
    again: Flags.boolean({ summary: 'Also requeue records the requeue ledger lists as requeued already (the plan says how many).' }),
    ...rateFlag,
    ...writeFlags(),
    ...progressFlag,
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DlqRequeue)
    this.setJsonOutput(flags.json)
    const only: RequeueRequest['only'] = flags['group-by'] ? parseGroupSelector(flags['group-by']) : undefined
    const request: RequeueRequest = { dlqTopic: args.topic, range: parsePositionRange(flags.offset), partitions: parsePartitionList(flags.partition), filter: flags.filter ? compileDlqCel(flags.filter, '--filter', (m) => this.note(`evt: warning: ${m}`)) : undefined, only, to: flags.to, keepErrorHeaders: flags['keep-error-headers'], allowTargets: flags['allow-target'] ?? [], maxRequeues: flags['max-requeues'], rate: flags.rate, again: flags.again }
    const session = this.session(flags)
    const plan = await planRequeue(session, request, flags.filter)
    this.out(flags.json ? JSON.stringify({ plan }) : renderRequeuePlan(plan))
    const toSend = plan.targets.reduce((s, t) => s + t.records, 0)
    if (flags['dry-run']) return
    refuseMissingTargets(plan)
    if (toSend === 0) return refuseHeldBack(plan.skipped)
    const unallowed = unallowedTargets(plan, request.allowTargets!)
    if (unallowed) {
      if (!canPrompt()) throw unallowed.refusal
      await confirmWrite(unallowed.question, { flag: unallowed.flags })
      request.allowTargets!.push(...unallowed.topics)
    }
    const againCount = plan.again ? plan.alreadyRequeuedCount : 0
    await confirmWrite(`Requeue ${plural(toSend, 'record')}${againCount ? ` (${againCount} of them again: --again)` : ''}?`, { yes: flags.yes })
    const interrupt = this.interruptSignal()
    const progress = this.progress(flags)
    const summary = await runRequeue(session, request, plan, {
      signal: interrupt.signal,
      onWarning: (m) => this.note(`evt: warning: ${m}`),
      onProgress: (p) => progress.update(p.done, p.total, renderRequeueProgress(p)),
    })
    progress.stop()
    this.out(flags.json ? JSON.stringify({ summary }) : renderRequeueSummary(summary))
    if (summary.interrupted) {
      this.note('interrupted: the open transaction was aborted; run the same command again to continue')
      process.exitCode = ExitCode.Interrupted
    } else refuseHeldBack(summary.skipped)
  }
}
