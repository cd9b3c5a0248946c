import { Args } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { connectionFlags, jsonFlag } from '../flags.ts'
import { renderGroupDetail, renderGroups } from '../output/admin.ts'
import { describeGroup, listGroups } from '../services/groups.ts'

export default class Groups extends EvtCommand {
  static override summary = 'List consumer groups, or show one group\'s members, committed offsets and lag.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> shipping-service',
    '<%= config.bin %> <%= command.id %> shipping-service --json | jq \'.partitions[] | select(.lag > 0)\'',
  ]
  static override args = {
    group: Args.string({ ignoreStdin: true, description: 'Consumer group id to show in detail.' }),
  }
  static override flags = { ...connectionFlags, ...jsonFlag }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Groups)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    if (args.group) {
      const detail = await describeGroup(session, args.group)
      this.out(flags.json ? JSON.stringify(detail) : renderGroupDetail(detail))
    } else {
      const groups = await listGroups(session)
      this.out(flags.json ? JSON.stringify(groups) : renderGroups(groups))
    }
  }
}
