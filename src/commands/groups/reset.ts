import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { usageError } from '../../errors.ts'
import { connectionFlags, jsonFlag, withEnv, writeFlags } from '../../flags.ts'
import { parsePositionRange } from '../../kafka/positions.ts'
import { plural, renderGroupResetPlan } from '../../output/admin.ts'
import { applyGroupReset, planGroupReset, refuseActiveReset } from '../../services/group-admin.ts'

export default class GroupsReset extends EvtCommand {
  static override summary = 'Move a consumer group\'s committed offsets: to start, end, an offset or a time. Planned, idempotent.'
  static override description = `--to takes one position of tail's grammar: start, end, <offset> (kept within each partition's retained offsets), +N / -N (records after the start / before the end), @<time> or @-<duration> (the first record at or after it; the end where there is none). It applies to every partition of every topic the group has committed offsets for, or of the --topic topics (repeatable; needed for a group that has committed nothing: it is created with these offsets).

The plan (per partition: committed offset now, the new one, the lag after) is printed first; --dry-run stops there. Moving asks on a terminal; without one it needs --yes (else exit 6). A group with active members is refused (exit 6): stop its consumers first, since they would commit over the new offsets. Partitions already at their new offset are left alone; when all are, the command says so and exits 0.

--json: {"plan":{"groupId","to","exists","members","changes","partitions":[{"topic","partition","current","target","high","lagAfter"}]}} then {"changed":N}.`
  static override examples = [
    { description: 'Re-consume everything retained (planned only)', command: '<%= config.bin %> <%= command.id %> shipping-service --to start --dry-run' },
    { description: 'Skip the backlog: move to the end', command: '<%= config.bin %> <%= command.id %> shipping-service --to end --yes' },
    { description: 'Re-consume the last hour of one topic', command: '<%= config.bin %> <%= command.id %> shipping-service --to @-1h --topic orders.events --yes' },
  ]
  static override args = {
    group: Args.string({ required: true, ignoreStdin: true, description: 'The consumer group.' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    to: Flags.string({ required: true, env: 'EVT_GROUPS_RESET_TO', summary: 'Where to: start, end, <offset>, +N, -N, @<time>, @-<duration>.' }),
    topic: Flags.string({ char: 't', multiple: true, summary: 'Only this topic (repeatable; default: every topic the group committed offsets for).' }),
    ...writeFlags({ nothing: 'changed' }),
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GroupsReset)
    this.setJsonOutput(flags.json)
    const range = parsePositionRange(flags.to)
    if (range.to) throw usageError(`--to ${flags.to}: a group is moved to one position, not a range`, 'e.g. --to start, --to end, --to 1500, --to @-1h')
    const session = this.session(flags)
    const plan = await planGroupReset(session, { groupId: args.group, position: range.from, to: flags.to, topics: flags.topic })
    await this.plannedWrite(flags, {
      plan,
      render: renderGroupResetPlan,
      refuse: refuseActiveReset,
      nothingToDo: () => plan.changes === 0 && `group ${plan.groupId} is already at ${flags.to}: nothing to do`,
      question: `Move the offsets of group "${plan.groupId}" on ${plural(plan.changes, 'partition')}?`,
      execute: () => applyGroupReset(session, plan),
      result: (changed) => ({ json: { changed }, text: `group ${plan.groupId} moved to ${flags.to} on ${plural(changed, 'partition')}` }),
    })
  }
}
