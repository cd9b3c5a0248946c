import { Args } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv, writeFlags } from '../../flags.ts'
import { plural, renderGroupDeletePlan, renderGroupDeleteResults } from '../../output/admin.ts'
import { deleteGroups, planGroupDelete, refuseActiveGroups } from '../../services/group-admin.ts'

export default class GroupsDelete extends EvtCommand {
  static override summary = 'Delete consumer groups and their committed offsets: planned, idempotent, refusing groups with active members.'
  static override description = `The plan (each group with its state and the topics it committed offsets for) is printed first; --dry-run stops there. Deleting asks on a terminal; without one it needs --yes (else exit 6).

A group with active members is refused (exit 6, nothing deleted): stop its consumers first. A group that does not exist has nothing to delete: running the command again exits 0. For evt's own progress groups, evt replay clean also removes the replay's state file.

--json: {"plan":{"groups":[{"groupId","action":"delete"|"absent"|"refused","state","members","topics"}]}} then {"results":[{"groupId","outcome":"deleted"|"absent"}]}.`
  static override examples = [
    { description: 'What would be deleted', command: '<%= config.bin %> <%= command.id %> invoice-service-v2 --dry-run' },
    { description: 'Delete a group that is no longer used', command: '<%= config.bin %> <%= command.id %> invoice-service-v2 --yes' },
  ]
  static override strict = false
  static override args = {
    group: Args.string({ required: true, ignoreStdin: true, description: 'Consumer groups to delete (one or more).' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    ...writeFlags({ nothing: 'deleted' }),
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(GroupsDelete)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    const plan = await planGroupDelete(session, argv as string[])
    const n = plan.groups.filter((g) => g.action === 'delete').length
    await this.plannedWrite(flags, {
      plan,
      render: renderGroupDeletePlan,
      refuse: refuseActiveGroups,
      nothingToDo: () => n === 0,
      question: `Delete ${plural(n, 'consumer group')}?`,
      execute: () => deleteGroups(session, plan),
      result: (results) => ({ json: { results }, text: renderGroupDeleteResults(results) }),
    })
  }
}
