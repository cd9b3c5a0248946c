import { Args } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv } from '../../flags.ts'
import { renderReplayStatus, renderReplayStatusList } from '../../output/replay.ts'
import { listReplayStatus, replayStatus } from '../../services/replay-state.ts'

export default class ReplayStatus extends EvtCommand {
  static override summary = 'Show the copy replays started on this machine: plan, progress, records copied, state.'
  static override description = `Each copy replay (replay --to-topic) keeps its definition in a state file on this machine and its progress in its progress group (_evt-replay-<id>), written in the same transactions as the copied records; the counts of records copied and filtered out are committed with that progress, so they are exact after a crash, kill -9 or Ctrl-C.

State: running (its process is alive on this host), finished (every partition copied to the end of its range), interrupted (resume it: evt replay --resume <id>), other-cluster (started against other brokers: not looked up). Offsets are source offsets (records, plus transaction markers and compacted gaps); COPIED and FILTERED are records ("?" when unknown: a run from an evt that did not count).

Without an id: every replay with a state file here, oldest first, then replay progress groups in the cluster that have no state file here.

--json: with an id, one object {"id","state","source","target","createdAt","filter","progressGroup","stateFile","brokers","offsets","done","remaining","copied","filtered","groupMembers","pid","partitions":[{"partition","start","end","committed","done","remaining","copied","filtered"}]}; without, {"runs":[…],"unreadable":[{"id","path","error"}],"untracked":[{"group","replayId"}]}. Unknown figures are null.`
  static override examples = [
    { description: 'Every replay started here', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'One replay, per partition', command: '<%= config.bin %> <%= command.id %> rp-20261129-141500-3fa2' },
    { description: 'Interrupted replays, as JSON', command: '<%= config.bin %> <%= command.id %> --json | jq -r \'.runs[] | select(.state == "interrupted") | .id\'' },
  ]
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'Replay id (printed when the replay started).' }),
  }
  static override flags = withEnv({ ...connectionFlags, ...jsonFlag })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ReplayStatus)
    this.setJsonOutput(flags.json)
    const session = this.session(flags)
    if (args.id) {
      const status = await replayStatus(session, args.id)
      this.out(flags.json ? JSON.stringify(status) : renderReplayStatus(status))
      return
    }
    const list = await listReplayStatus(session)
    this.out(flags.json ? JSON.stringify(list) : renderReplayStatusList(list))
  }
}
