import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv, writeFlags } from '../../flags.ts'
import { renderTopicCreatePlan } from '../../output/admin.ts'
import { createTopic, parseTopicConfig, planTopicCreate, refuseDifferentTopic } from '../../services/topic-admin.ts'

export default class TopicsCreate extends EvtCommand {
  static override summary = 'Create a topic: partitions, replication and configuration, planned and idempotent.'
  static override description = `The plan is printed first; --dry-run stops there. Creating asks on a terminal; without one it needs --yes (else exit 6).

Idempotent: a topic that exists with every setting given (partitions, replication, each -c entry) is left as it is and the command exits 0 without asking; one that exists with other settings is refused (exit 6), naming the differences — evt does not change an existing topic. Names starting with __ (Kafka's internal topics) are refused (exit 6). Without -p or -r the broker's defaults apply (num.partitions, default.replication.factor).

--json: {"plan":{"topic","partitions","replicationFactor","config","action":"create"|"exists"|"differs","differences":[{"setting","requested","existing"}]}} then {"created":"<topic>"}.`
  static override examples = [
    { description: 'A topic with 6 partitions', command: '<%= config.bin %> <%= command.id %> orders.audit -p 6 --yes' },
    { description: 'A compacted topic with 3 replicas, planned only', command: '<%= config.bin %> <%= command.id %> customers.snapshots -p 3 -r 3 -c cleanup.policy=compact --dry-run' },
    { description: 'Kept for a day', command: '<%= config.bin %> <%= command.id %> payments.incident-1234 -p 3 -c retention.ms=86400000 --yes' },
  ]
  static override args = {
    name: Args.string({ required: true, ignoreStdin: true, description: 'Name of the topic to create.' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    partitions: Flags.integer({ char: 'p', min: 1, summary: 'Number of partitions (default: the broker\'s num.partitions).' }),
    replication: Flags.integer({ char: 'r', min: 1, summary: 'Replication factor (default: the broker\'s default.replication.factor).' }),
    config: Flags.string({ char: 'c', multiple: true, env: 'EVT_TOPIC_CONFIG', summary: 'Topic configuration key=value (repeatable), e.g. -c retention.ms=86400000.' }),
    ...writeFlags({ nothing: 'created' }),
  })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TopicsCreate)
    this.setJsonOutput(flags.json)
    const config = parseTopicConfig(flags.config)
    const session = this.session(flags)
    const plan = await planTopicCreate(session, { topic: args.name, partitions: flags.partitions, replicationFactor: flags.replication, config })
    await this.plannedWrite(flags, {
      plan,
      render: renderTopicCreatePlan,
      refuse: refuseDifferentTopic,
      nothingToDo: () => plan.action === 'exists',
      question: `Create topic "${plan.topic}"?`,
      execute: () => createTopic(session, plan),
      result: () => ({ json: { created: plan.topic }, text: `created topic ${plan.topic}` }),
    })
  }
}
