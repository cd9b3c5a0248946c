import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv, writeFlags } from '../../flags.ts'
import { plural } from '../../output/plural.ts'
import { renderReplayCleanPlan, renderReplayCleanResults } from '../../output/replay.ts'
import { planReplayClean, refuseKept, runReplayClean } from '../../services/replay-state.ts'

export default class ReplayClean extends EvtCommand {
  static override summary = 'Remove what finished copy replays left behind: their progress groups and state files.'
  static override description = `Without ids: every finished replay of this cluster (see evt replay status); --all adds the interrupted ones. With ids: those replays, finished or not (an interrupted one can then no longer be resumed), and for an id without a state file here, its progress group if the cluster has one.

For each replay the progress group (_evt-replay-<id>, or evt-replay-<id> from older evt) is deleted, then the state file. Kept, and named in the plan: a replay that is running, one whose progress group has active members (someone else's consumer joined it), one started on another cluster. The run then ends with exit 6 after removing the others.

The plan is printed first; --dry-run stops there. Removing asks on a terminal; without one it needs --yes. Running it again removes nothing more and exits 0. The transactional id of a replay (the same name) cannot be deleted through Kafka's API: the broker forgets it after transactional.id.expiration.ms (7 days by default).

--json: {"plan":{"remove":[{"id","state","group","stateFile","source","target"}],"kept":[… "reason"],"absent":[ids],"notSelected"}} then {"results":[… "outcome": "removed"|"gone"|"kept"]}.`
  static override examples = [
    { description: 'What would be removed', command: '<%= config.bin %> <%= command.id %> --dry-run' },
    { description: 'Remove every finished replay', command: '<%= config.bin %> <%= command.id %> --yes' },
    { description: 'Give up an interrupted replay', command: '<%= config.bin %> <%= command.id %> rp-20261129-141500-3fa2 --yes' },
  ]
  static override strict = false
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'Replay ids (default: every finished replay).' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...jsonFlag,
    all: Flags.boolean({ summary: 'Also remove interrupted replays (without ids).', env: 'EVT_REPLAY_CLEAN_ALL' }),
    ...writeFlags({ nothing: 'removed' }),
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ReplayClean)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    const ids = argv as string[]
    const plan = await planReplayClean(session, { ids, all: flags.all })
    const n = plan.remove.length
    const results = await this.plannedWrite(flags, {
      plan,
      render: renderReplayCleanPlan,
      nothingToDo: () => {
        if (n === 0) refuseKept(plan, [])
        return n === 0
      },
      question: `Remove ${plural(n, 'replay')} (progress groups and state files)?`,
      execute: () => runReplayClean(session, plan),
      result: (r) => ({ json: { results: r }, text: renderReplayCleanResults(r) }),
    })
    if (results) refuseKept(plan, results)
  }
}
