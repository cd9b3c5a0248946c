/**
 * Which index store a `--store` / `--index` value names, and opening it: `local` (the SQLite file
 * of the index name in evt's state directory) or a `postgres://` / `postgresql://` URL.
 */
import { usageError } from '../errors.ts'
import { localIndexPath, SqliteIndexStore } from './sqlite.ts'
import type { IndexStore } from './types.ts'

/** A parsed store value. */
/** A parsed store argument, with the index name it names (`local:<name>`, `postgres://…#<name>`, else `--name`). */
export type StoreSpec = { kind: 'local'; path: string; name: string } | { kind: 'postgres'; url: string; name: string }

/** The default index name (group `_evt-index-default`, file `default.sqlite`). */
export const DEFAULT_INDEX_NAME = 'default'

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/**
 * Checks an index name: letters, digits, `.`, `_`, `-`, at most 100 characters, not starting with a dot or dash.
 * @throws EvtError usage (2).
 */
export function checkIndexName(name: string): string {
  if (!NAME.test(name)) throw usageError(`--name: "${name}" is not an index name`, 'use letters, digits, ".", "_" and "-", e.g. --name orders')
  return name
}

/**
 * Parses a store value: `local` (the file of index `name`), `local:<name>`, `postgres://user@host:5432/db`
 * (index `name`), `postgres://…#<name>`.
 * @throws EvtError usage (2) for anything else.
 */
export function parseStoreSpec(value: string, name: string = DEFAULT_INDEX_NAME, env: NodeJS.ProcessEnv = process.env): StoreSpec {
  const v = value.trim()
  if (v === 'local') return { kind: 'local', path: localIndexPath(checkIndexName(name), env), name: checkIndexName(name) }
  // local:<name>: the local file of another index name
  if (v.startsWith('local:')) {
    const own = checkIndexName(v.slice('local:'.length))
    return { kind: 'local', path: localIndexPath(own, env), name: own }
  }
  if (/^postgres(ql)?:\/\//i.test(v)) {
    let url: URL
    try {
      url = new URL(v)
    } catch {
      throw usageError(`"${v}" is not a valid PostgreSQL URL`, 'e.g. postgres://evt@127.0.0.1:5432/evt')
    }
    // postgres://…#<name>: another index name in the same database
    const fragment = decodeURIComponent(url.hash.slice(1))
    url.hash = ''
    return { kind: 'postgres', url: url.toString(), name: checkIndexName(fragment || name) }
  }
  throw usageError(`unknown index store "${v}"`, 'use local (a SQLite file in evt\'s state directory), local:<name>, or a postgres:// URL')
}

/** A store URL for messages: the password replaced by `***`. */
export function describeStoreUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://…'
  }
}

/**
 * Opens a store (creating its tables when missing). With `create: false` (status, drop, trace)
 * nothing is created: an index that does not exist (no local file; no schema in PostgreSQL) reads
 * as empty and has `exists` false.
 * @throws EvtError connect (3) when it cannot be opened or reached.
 */
export async function openIndexStore(spec: StoreSpec, options: { create?: boolean } = {}): Promise<IndexStore> {
  if (spec.kind === 'local') return new SqliteIndexStore(spec.path, options)
  const { PostgresIndexStore } = await import('./postgres.ts')
  return PostgresIndexStore.open(spec.url, spec.name, options)
}
