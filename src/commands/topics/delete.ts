import { Args } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv, writeFlags } from '../../flags.ts'
import { plural, renderTopicDeletePlan, renderTopicDeleteResults } from '../../output/admin.ts'
import { deleteTopics, planTopicDelete, refuseGuardedTopics } from '../../services/topic-admin.ts'

export default class TopicsDelete extends EvtCommand {
  static override summary = 'Delete topics and their records: planned, idempotent, refusing internal and protected topics.'
  static override description = `The plan (each topic with its partitions and retained offsets) is printed first; --dry-run stops there. Deleting asks on a terminal; without one it needs --yes (else exit 6).

Refused (exit 6, nothing deleted): Kafka's internal topics (__*), the schema registry's and Kafka Connect's topics (_schemas, connect-configs, *-offsets, *-status, …) and the profile's protectedTopics. A topic that does not exist has nothing to delete: running the command again exits 0.

--json: {"plan":{"topics":[{"topic","action":"delete"|"absent"|"refused","partitions","offsets","reason"}]}} then {"results":[{"topic","outcome":"deleted"|"absent"}]}.`
  static override examples = [
    { description: 'What would be deleted', command: '<%= config.bin %> <%= command.id %> payments.incident-1234 --dry-run' },
    { description: 'Delete two scratch topics', command: '<%= config.bin %> <%= command.id %> payments.incident-1234 payments.retry --yes' },
  ]
  static override strict = false
  static override args = {
    name: Args.string({ required: true, ignoreStdin: true, description: 'Topics to delete (one or more).' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    ...writeFlags({ nothing: 'deleted' }),
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(TopicsDelete)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    const plan = await planTopicDelete(session, argv as string[])
    const n = plan.topics.filter((t) => t.action === 'delete').length
    await this.plannedWrite(flags, {
      plan,
      render: renderTopicDeletePlan,
      refuse: refuseGuardedTopics,
      nothingToDo: () => n === 0,
      question: `Delete ${plural(n, 'topic')} and all ${n === 1 ? 'its' : 'their'} records?`,
      execute: () => deleteTopics(session, plan),
      result: (results) => ({ json: { results }, text: renderTopicDeleteResults(results) }),
    })
  }
}
