import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag } from '../../flags.ts'
import { plural, renderTopicDeletePlan } from '../../output/admin.ts'
import { deleteTopics, planTopicDelete, refuseGuardedTopics } from '../../services/topic-admin.ts'
import { confirmWrite } from '../../ui/confirm.ts'

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
  static override flags = {
    ...connectionFlags,
    ...jsonFlag,
    'dry-run': Flags.boolean({ summary: 'Print the plan and stop: nothing is deleted.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation (needed without a terminal).' }),
  }

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(TopicsDelete)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    const plan = await planTopicDelete(session, argv as string[])
    this.out(flags.json ? JSON.stringify({ plan }) : renderTopicDeletePlan(plan))
    refuseGuardedTopics(plan)
    const n = plan.topics.filter((t) => t.action === 'delete').length
    if (n === 0 || flags['dry-run']) return
    await confirmWrite(`Delete ${plural(n, 'topic')} and all ${n === 1 ? 'its' : 'their'} records?`, { yes: flags.yes })
    const results = await deleteTopics(session, plan)
    this.out(flags.json ? JSON.stringify({ results }) : results.map((r) => (r.outcome === 'deleted' ? `deleted topic ${r.topic}` : `topic ${r.topic} was already gone`)).join('\n'))
  }
}
