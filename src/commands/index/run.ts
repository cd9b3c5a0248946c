import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { ExitCode } from '../../errors.ts'
import { connectionFlags, jsonFlag, strictFlag, withEnv } from '../../flags.ts'
import { indexStoreFlags } from '../../index-flags.ts'
import { checkIndexName, openIndexStore, parseStoreSpec } from '../../index-store/open.ts'
import { indexProgressJson, renderIndexDone, renderIndexProgress } from '../../output/index-store.ts'
import { runIndex } from '../../services/index-run.ts'

export default class IndexRun extends EvtCommand {
  static override summary = 'Index record ids for fast traces: a worker in the consumer group _evt-index-<name>.'
  static override description = `Reads the topics in the consumer group _evt-index-<name> (start one worker per machine or core: Kafka splits the partitions between them), extracts each record's ids with trace's envelope extractors, and stores one pointer row per record that carries one — correlation id (or trace id), event id, causation id (or parent span), event type, aggregate id, topic, partition, offset, timestamp — then commits the group's offsets. Rows are unique on topic, partition and offset, and stored before the offsets are committed: a worker killed at any moment loses nothing and stores nothing twice when it starts again. Rows older than the topics' retention are deleted as the worker runs.

Runs until stopped (Ctrl-C: exit 130; SIGTERM: exit 143; what was stored is committed); --exit stops once the group has reached the end offsets taken at start. Progress goes to stderr, the final count to stdout; --json prints one status line per second on stdout, and a last one of type done ({"type":"progress"|"done","group","store","topics","records","rows","caughtUp","elapsedMs","stopped","partitions":[{"topic","partition","next","end"}]}).

evt trace --index local (or the profile's trace.index) then looks records up instead of scanning.`
  static override examples = [
    { description: 'Index the order and payment topics into the local store, then stop', command: '<%= config.bin %> <%= command.id %> \'orders.*\' \'payments.*\' --exit' },
    { description: 'A worker for two topics, with status lines for a service manager', command: '<%= config.bin %> <%= command.id %> orders.events payments.events --json' },
  ]
  static override strict = false
  static override args = {
    topics: Args.string({ ignoreStdin: true, description: 'Topics to index (names or globs, as trace -t). Default: every topic not starting with __.' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...strictFlag,
    ...jsonFlag,
    ...indexStoreFlags,
    exit: Flags.boolean({ char: 'e', summary: 'Stop once caught up with the end offsets taken at start.' }),
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(IndexRun)
    this.setJsonOutput(flags.json)
    // the index a store argument names (local:<name>, postgres://…#<name>) wins over --name: its group and its rows go together
    const spec = parseStoreSpec(flags.store, checkIndexName(flags.name))
    const name = spec.name
    const session = this.session(flags)
    const controller = new AbortController()
    const onSigint = () => controller.abort()
    process.on('SIGINT', onSigint)
    const store = await openIndexStore(spec)
    try {
      const result = await runIndex(session, {
        name,
        topics: (argv as string[]).length ? (argv as string[]) : undefined,
        store,
        exit: flags.exit,
        signal: controller.signal,
        strict: flags.strict,
        onWarning: this.warning,
        onProgress: (p) => (flags.json ? this.out(indexProgressJson(p, 'progress')) : this.note(renderIndexProgress(p))),
      })
      this.out(flags.json ? indexProgressJson(result, 'done', result.stopped) : renderIndexDone(result))
      // stopped by Ctrl-C (130) or SIGTERM (143, bin/run.js): what was stored is committed, a new worker goes on from there
      if (result.stopped === 'interrupted') process.exitCode = ExitCode.Interrupted
    } finally {
      process.removeListener('SIGINT', onSigint)
      await store.close()
    }
  }
}
