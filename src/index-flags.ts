/**
 * Flags of the `evt index` commands (beside src/flags.ts, which holds the flags every command shares).
 */
import { Flags } from '@oclif/core'
import { DEFAULT_INDEX_NAME } from './index-store/open.ts'

/** `--store` and `--name`: which trace index. */
export const indexStoreFlags = {
  store: Flags.string({
    summary: 'Where the pointer rows are: local (a SQLite file in evt\'s state directory) or a postgres:// URL.',
    env: 'EVT_INDEX_STORE',
    default: 'local',
  }),
  name: Flags.string({
    summary: 'Index name: its workers\' consumer group is _evt-index-<name>, its local file <name>.sqlite.',
    env: 'EVT_INDEX_NAME',
    default: DEFAULT_INDEX_NAME,
  }),
}
