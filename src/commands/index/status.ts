import { EvtCommand } from '../../base-command.ts'
import { connectionFlags, jsonFlag, withEnv } from '../../flags.ts'
import { indexStoreFlags } from '../../index-flags.ts'
import { checkIndexName, DEFAULT_INDEX_NAME, describeStoreUrl, openIndexStore, parseStoreSpec } from '../../index-store/open.ts'
import { EvtError } from '../../errors.ts'
import { renderIndexStatus } from '../../output/index-store.ts'
import { indexStatus } from '../../services/index-status.ts'

export default class IndexStatusCommand extends EvtCommand {
  static override summary = 'How far a trace index reaches: per partition the indexed offset, lag, rows; the store size.'
  static override description = `Per indexed partition: FROM (the first offset indexed), INDEXED (records before it are indexed), END (the end offset now), LAG (END − INDEXED: what a trace through the index scans), ROWS (pointer rows). Above: the store's rows and bytes, and the workers in the group _evt-index-<name>.

--json: {"name","group","storeArg","store","groupState","members","rows","sizeBytes","partitions":[{"topic","partition","from","indexedOffset","endOffset","lag","rows"}]} (endOffset and lag null for a topic that is gone).`
  static override examples = [
    { description: 'The local index', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Partitions the index has not caught up with, as JSON', command: '<%= config.bin %> <%= command.id %> --json | jq \'.partitions[] | select(.lag > 0)\'' },
  ]
  static override flags = withEnv({ ...connectionFlags, ...jsonFlag, ...indexStoreFlags })

  async run(): Promise<void> {
    const { flags } = await this.parse(IndexStatusCommand)
    this.setJsonOutput(flags.json)
    // the index a store argument names (local:<name>, postgres://…#<name>) wins over --name: its group and its rows go together
    const spec = parseStoreSpec(flags.store, checkIndexName(flags.name))
    const name = spec.name
    const session = this.session(flags)
    const store = await openIndexStore(spec, { create: false })
    if (!store.exists) {
      await store.close()
      throw new EvtError('not-found', `there is no index "${name}" in ${store.description}`, { hint: `index into it first: evt index run <topics…> --store ${spec.kind === 'local' ? flags.store : describeStoreUrl(flags.store)}${flags.name !== DEFAULT_INDEX_NAME ? ` --name ${flags.name}` : ''}` })
    }
    try {
      const status = await indexStatus(session, store, name, spec.kind === 'local' ? (name === DEFAULT_INDEX_NAME ? 'local' : `local:${name}`) : `${describeStoreUrl(spec.url)}${name === DEFAULT_INDEX_NAME ? '' : `#${name}`}`)
      this.out(flags.json ? JSON.stringify(status) : renderIndexStatus(status))
    } finally {
      await store.close()
    }
  }
}
