import { Args } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { connectionFlags, withEnv } from '../flags.ts'
import { bashCompletionScript } from '../output/completion.ts'
import { completionNames } from '../services/complete.ts'

export default class Complete extends EvtCommand {
  static override hidden = true
  static override summary = 'Names for shell completion: topics or consumer groups of the cluster, one per line (cached for 60 s); `bash` prints the completion snippet.'
  static override description = `Used by the completion snippet (eval "$(evt __complete bash)", after evt autocomplete's own setup): the snippet asks for topic names where a command takes a topic (tail, dlq inspect, dlq requeue, topics delete, replay, produce, -t/--topic, --to-topic) and for group ids where it takes a group (groups, groups delete, groups reset, --group).

Names are cached in $XDG_STATE_HOME/evt/completion/ (else ~/.local/state/evt/completion/) for 60 s per broker list; Kafka's internal topics, evt's requeue ledgers and evt's own progress groups are left out.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> topics',
    '<%= config.bin %> <%= command.id %> groups',
  ]
  static override args = {
    kind: Args.string({ required: true, ignoreStdin: true, options: ['topics', 'groups', 'bash'], description: 'topics, groups, or bash (the snippet).' }),
  }
  static override flags = withEnv({ ...connectionFlags })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Complete)
    if (args.kind === 'bash') return this.out(bashCompletionScript(this.config.bin))
    const { names } = await completionNames(this.session(flags), args.kind as 'topics' | 'groups')
    if (names.length) this.out(names.join('\n'))
  }
}
