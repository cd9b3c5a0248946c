import { Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { connectionFlags, jsonFlag, withEnv } from '../flags.ts'
import { renderTopics } from '../output/admin.ts'
import { listTopics } from '../services/topics.ts'

export default class Topics extends EvtCommand {
  static override summary = 'List topics with partitions, replication and retained offsets (at most that many records).'
  static override description = 'RECORDS shows ≤ N, where N is high watermark − low watermark summed over partitions: the retained offsets, an upper bound on the records (transaction markers, aborted records and compacted-away records take offsets too; counting records exactly would read the whole topic). --json gives it as offsets. Internal topics (names starting with __, and evt\'s requeue ledgers <dlq>.evt-requeued) are hidden unless --all.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all --json',
    '<%= config.bin %> <%= command.id %> -b kafka-1:9092 --timeout 3s',
  ]
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    all: Flags.boolean({ char: 'a', summary: 'Include internal topics (__consumer_offsets, __transaction_state, …) and evt\'s requeue ledgers (<dlq>.evt-requeued).' }),
  })

  async run(): Promise<void> {
    const { flags } = await this.parse(Topics)
    this.setJsonOutput(flags.json)
    const topics = await listTopics(this.session(flags), { all: flags.all })
    this.out(flags.json ? JSON.stringify(topics) : renderTopics(topics))
  }
}
