import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { ExitCode } from '../../errors.ts'
import { headerMatch, keyGlob } from '../../filter.ts'
import { connectionFlags, filterFlag, filterFlags, isolationFlag, jsonFlag, maxMessagesFlag, noUiFlag, offsetFlag, parsePartitionList, partitionFlag, strictFlag, withEnv } from '../../flags.ts'
import { combineDlqFilters, compileDlqCel, onRecord, type DlqRecordFilter } from '../../dlq/filter.ts'
import { DLQ_GROUP_BY } from '../../dlq/group.ts'
import { parsePositionRange } from '../../kafka/positions.ts'
import { dlqJsonLine, prettyDlqRecord, renderDlqGroups } from '../../output/dlq.ts'
import { StdoutSink } from '../../output/sink.ts'
import { groupDlq, inspectDlq, type DlqInspectOptions, type DlqInspectStats } from '../../services/dlq-inspect.ts'
import { planRequeue, runRequeue } from '../../services/dlq-requeue.ts'
import { readLedger } from '../../dlq/ledger.ts'
import { markedRequeue } from '../../ui/dlq/marked.ts'
import { plural } from '../../output/plural.ts'

export default class DlqInspect extends EvtCommand {
  static override summary = 'Show the records of a dead-letter topic with their parsed failures, or triage them by group.'
  static override description = `Each record with its failure parsed from the dead-letter headers of Spring Kafka (DLT and retry topics), Spring Cloud Stream, Kafka Connect, SmallRye and MassTransit: original topic/partition/offset/timestamp, consumer group, exception, message, cause, stack trace (folded to its first lines; --stack shows it whole), attempts — and the key and value decoded.

Reads without a consumer group from -o (default start:end) to the end offsets taken at start: it always stops. --filter is CEL over the record (topic, partition, offset, timestamp, key, value, headers) and failure (its fields below), e.g. 'failure.exception.endsWith("TimeoutException")'; a field the failure lacks makes it false (test with has(failure.cause)).

On a terminal (without --json, --group-by or --no-ui) the records open in a browser: groups on the left (g cycles exception, reason, original topic, stage), the group's records on the right, enter for one record's failure, headers and value; space marks a record, a the whole group, r requeues the marked records (as dlq requeue does) after showing the plan and asking y/n; q quits.

Records that were requeued (the DLQ's requeue ledger, <dlq>.evt-requeued, lists them) show when and where to: "↻ requeued <time> → <topic>/<partition>" in text, ↻ in the browser's list and a "requeued" line in its detail pane.

--json prints one JSON line per record: the tail -f json line plus "failure" and "requeued":
{"topic","partition","offset","timestamp","key","keyEncoding","value","valueEncoding","headers":[{"key","value","encoding"}],"failure":{"framework","originalTopic","originalPartition","originalOffset","originalTimestamp","originalTimestampType","consumerGroup","exception","message","cause","causeMessage","stacktrace","stage","stageClass","connector","task","attempts","redeliveries","backoffTimestamp","reason","keyFailure","warnings"},"requeued"}
requeued is null, or {"at","topic","partition","count"} (epoch ms, where the copy went, its evt-requeue-count).
framework is spring-dlt, spring-retry, spring-cloud-stream, kafka-connect, smallrye, masstransit, generic or unknown; failure fields are absent when unknown; originalOffset is a number (a string beyond 2^53); timestamps are epoch ms; reason is a short triage label (simple class name and the message's first words); warnings lists malformed headers.
With --group-by, --json prints one object:
{"topic","groupBy","scanned","matched","groups":[{"key","count","firstSeen","lastSeen","sample":{"message","topic","partition","offset"}}]} (key null: the records do not say).`
  static override examples = [
    { description: 'Every record of a DLT with its failure', command: '<%= config.bin %> <%= command.id %> payments.events-dlt' },
    { description: 'What fails, how often, since when', command: '<%= config.bin %> <%= command.id %> payments.events-dlt --group-by exception' },
    { description: 'Only timeouts of the last hour (Spring wraps them: the timeout is the cause), with whole stack traces', command: '<%= config.bin %> <%= command.id %> payments.events-dlt -o @-1h:end --filter \'failure.cause.endsWith("TimeoutException")\' --stack' },
    { description: 'The failures as JSON lines, into jq', command: '<%= config.bin %> <%= command.id %> payments.events-dlt --json | jq -c \'.failure | {exception, cause, message}\'' },
  ]
  static override args = {
    topic: Args.string({ ignoreStdin: true, description: 'The dead-letter topic.', required: true }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...strictFlag,
    ...jsonFlag,
    ...offsetFlag({ default: 'start:end', summary: 'Which records: positions as in tail (start, end, 47, +N, -N, @time, FROM:TO); an open end stops at the end offsets taken at start.', legacyEnv: 'EVT_DLQ_OFFSET' }),
    ...partitionFlag(),
    ...maxMessagesFlag,
    'group-by': Flags.option({ options: DLQ_GROUP_BY, summary: 'Print a triage table instead of records: count, first and last seen, a sample message per group.' })(),
    stack: Flags.boolean({ summary: 'Show whole stack traces (default: the first lines and the causes).' }),
    ...noUiFlag,
    ...filterFlags,
    ...filterFlag({ summary: 'Only records for which this CEL expression is true. Sees topic, partition, offset, timestamp, key, value, headers and failure, e.g. \'failure.exception.endsWith("TimeoutException")\'.' }),
    ...isolationFlag,
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DlqInspect)
    this.setJsonOutput(flags.json)
    const filters: DlqRecordFilter[] = []
    if (flags.filter) filters.push(compileDlqCel(flags.filter, '--filter', (m) => this.note(`evt: warning: ${m}`)))
    if (flags.key) filters.push(onRecord(keyGlob(flags.key)))
    for (const h of flags.header ?? []) filters.push(onRecord(headerMatch(h)))
    const interrupt = this.interruptSignal()
    const options: DlqInspectOptions = {
      topic: args.topic,
      range: parsePositionRange(flags.offset),
      partitions: parsePartitionList(flags.partition),
      maxMessages: flags['max-messages'],
      filter: combineDlqFilters(filters),
      isolation: flags.isolation,
      signal: interrupt.signal,
      onWarning: (m) => this.note(`evt: warning: ${m}`),
      strict: flags.strict,
    }
    const session = this.session(flags)
    const sink = new StdoutSink(() => interrupt.abort())
    const stats: DlqInspectStats = { scanned: 0, matched: 0, bytes: 0 }
    let quit = false
    if (flags['group-by']) {
      const result = await groupDlq(session, { ...options, groupBy: flags['group-by'] })
      this.out(flags.json ? JSON.stringify(result) : renderDlqGroups(result))
    } else if (this.liveView(flags)) {
      const { runDlqBrowser } = await import('../../ui/dlq/dlq-browser.tsx')
      await runDlqBrowser(inspectDlq(session, options, stats), {
        topic: args.topic,
        stats,
        stackExpanded: flags.stack,
        abort: (reason) => { quit = reason === 'quit'; interrupt.abort() },
        planRequeue: (marked) => { const m = markedRequeue(args.topic, marked); return planRequeue(session, m.request, m.filterText) },
        // the confirmation named every target outside the DLQ's naming convention: `y` allows them
        onRequeue: (marked, plan, o) => runRequeue(session, { ...markedRequeue(args.topic, marked).request, allowTargets: plan.unexpectedTargets }, plan, o),
        readLedger: () => readLedger(session, args.topic),
      })
    } else {
      for await (const chunk of inspectDlq(session, options, stats)) await sink.write(chunk.map((item) => (flags.json ? dlqJsonLine(item) : prettyDlqRecord(item, { stack: flags.stack }))))
      if (!flags.json && !sink.closed) this.note(`${plural(stats.matched, 'record')} shown (${stats.scanned} read)`)
    }
    if (interrupt.signal.aborted && !sink.closed && !quit) process.exitCode = ExitCode.Interrupted
  }
}
