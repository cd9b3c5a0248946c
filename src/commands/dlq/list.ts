import { Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, isolationFlag, jsonFlag, withEnv } from '../../flags.ts'
import { renderDlqList } from '../../output/dlq.ts'
import { listDlqTopics, parseDlqPatterns } from '../../services/dlq-list.ts'

export default class DlqList extends EvtCommand {
  static override summary = 'List dead-letter topics: how many records, how old, which errors, from where.'
  static override description = `A topic is a dead-letter topic by name (*.DLT, *-dlt, *.dlq, *.DLQ, *-dlq, dlq.*, *.dlq.v1, error.<topic>.<group>, dead-letter-topic-*, *.dead-letter, and --pattern) or by content: of every other topic, the last --sample records are read, and the topic counts when at least half of them carry dead-letter headers (Spring Kafka, Spring Cloud Stream, Kafka Connect, SmallRye, MassTransit, x-original-topic).

Per DLQ: records (high − low watermark, approximate), the age of the oldest and newest record, and — from a bounded scan of its last --scan-limit records — the top exception classes, the original topics and the frameworks. Reads without a consumer group.

--json prints one object:
{"dlqs":[{"topic","partitions","detectedBy":"name"|"content","records","oldestTimestamp","newestTimestamp","oldestAgeMs","newestAgeMs","scanned","complete","withFailureHeaders","topErrors":[{"exception","count"}],"originalTopics":[{"topic","count"}],"frameworks":[{"framework","count"}]}],"topicsConsidered","topicsSampled","sampleSize","scanLimit"}
Timestamps are epoch ms (null for an empty topic); exception null counts records without an exception class; complete is false when the topic holds more than the scan read.`
  static override examples = [
    { description: 'Every dead-letter topic of the cluster', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Only the orders topics, as JSON', command: '<%= config.bin %> <%= command.id %> -t "payments*" --json' },
    { description: 'Also count topics named *-failed, scan fewer records', command: '<%= config.bin %> <%= command.id %> --pattern "-failed$" --scan-limit 1000' },
  ]
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    topic: Flags.string({ char: 't', summary: 'Only look at these topics (names or globs). Repeatable. Default: every topic not starting with __.', multiple: true }),
    pattern: Flags.string({ summary: 'Another DLQ topic name pattern (regular expression). Repeatable.', multiple: true, env: 'EVT_DLQ_PATTERN' }),
    sample: Flags.integer({ summary: 'Records read from the end of each other topic to detect DLQs by their headers (0: by name only).', default: 100, min: 0 }),
    'scan-limit': Flags.integer({ summary: 'Records scanned from the end of each DLQ for errors and origins.', default: 10_000, min: 0 }),
    ...isolationFlag,
  })

  async run(): Promise<void> {
    const { flags } = await this.parse(DlqList)
    this.setJsonOutput(flags.json)
    const patterns = parseDlqPatterns(flags.pattern ?? [])
    const result = await listDlqTopics(this.session(flags), {
      topics: flags.topic,
      patterns,
      sampleSize: flags.sample,
      scanLimit: flags['scan-limit'],
      isolation: flags.isolation,
      onWarning: (m) => this.note(`evt: warning: ${m}`),
    })
    this.out(flags.json ? JSON.stringify(result) : renderDlqList(result))
  }
}
