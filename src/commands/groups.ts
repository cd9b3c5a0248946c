import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { connectionFlags, jsonFlag, withEnv } from '../flags.ts'
import { renderGroupDetail, renderGroups } from '../output/admin.ts'
import { describeGroup, listGroups } from '../services/groups.ts'

export default class Groups extends EvtCommand {
  static override summary = 'List consumer groups, or show one group\'s members, committed offsets and lag.'
  static override description = `evt's own progress groups (_evt-replay-…, _evt-requeue-…: the progress of replay --to-topic and dlq requeue; they never have members) are not your consumers and are left out of the list; --all lists them too, in a table of their own. Naming one shows it.

--json prints an array of {"groupId","state","protocolType","members","topics","totalLag","evt"}; evt is null, or for evt's own groups {"kind":"replay","replayId","legacy"} or {"kind":"requeue","dlqTopic","selectionHash","legacy"} (legacy: true for the names evt used before the _evt- prefix, evt-replay-… and evt-dlq-requeue-…). With a group, one object: the same fields plus "memberDetails":[{"memberId","clientId","host","assignments":[{"topic","partitions"}]}] and "partitions":[{"topic","partition","committedOffset","highWatermark","lag"}]; offsets and lags are JSON numbers. Schema: docs/schemas/groups.schema.json.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> shipping-service',
    '<%= config.bin %> <%= command.id %> shipping-service --json | jq \'.partitions[] | select(.lag > 0)\'',
    '<%= config.bin %> <%= command.id %> --all',
  ]
  static override args = {
    group: Args.string({ ignoreStdin: true, description: 'Consumer group id to show in detail.' }),
  }
  static override flags = withEnv({ ...connectionFlags, ...jsonFlag, all: Flags.boolean({ summary: 'Also list evt\'s own progress groups (replay, dlq requeue).' }) })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Groups)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    if (args.group) {
      const detail = await describeGroup(session, args.group)
      this.out(flags.json ? JSON.stringify(detail) : renderGroupDetail(detail))
    } else {
      const { groups, hiddenEvtGroups } = await listGroups(session, { includeEvt: flags.all })
      this.out(flags.json ? JSON.stringify(groups) : renderGroups(groups))
      if (hiddenEvtGroups > 0 && !flags.json) this.note(`(${hiddenEvtGroups} of evt's own progress group${hiddenEvtGroups === 1 ? '' : 's'} not shown: evt groups --all)`)
    }
  }
}
