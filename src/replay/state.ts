/**
 * What a replay needs to be resumed: its definition, kept in a small JSON file per replay id
 * (`$XDG_STATE_HOME/evt/replays/<id>.json`, else `~/.local/state/evt/replays/<id>.json`).
 * Progress itself is not here: it lives in Kafka, as the committed offsets of the replay's
 * progress group, written in the same transaction as the copied records.
 *
 * While a copy runs, `<id>.running` beside it holds `{"pid","host","startedAt"}` (removed when the
 * run ends; left behind by `kill -9`, then recognised as stale because the process is gone).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { notFoundError, usageError } from '../errors.ts'
import { makeDirs, stateFolderError } from '../util/fs.ts'

/** One source partition of a replay: `[start, end)` fixed when the replay was planned. */
export interface ReplayPartition {
  partition: number
  start: number
  end: number
}

/** A copy replay, as stored for `--resume`. */
export interface ReplayDefinition {
  id: string
  createdAt: string
  source: string
  target: string
  partitions: ReplayPartition[]
  partitioning: 'same' | 'key' | 'round-robin'
  keepTimestamps: boolean
  filter?: string
  rate?: number
  /** Transactional id of the writer; a resumed run fences the old one. */
  transactionalId: string
  /** Consumer group whose committed offsets on the source are the progress. */
  progressGroup: string
  brokers: string[]
}

/** Folder of replay definitions. */
export function replayStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'evt', 'replays')
}

/** Stores a definition (overwrites). @throws EvtError usage (2) when the state folder cannot be written. */
export function saveReplay(def: ReplayDefinition, env: NodeJS.ProcessEnv = process.env): string {
  const dir = replayStateDir(env)
  const path = join(dir, `${def.id}.json`)
  try {
    makeDirs(dir)
    writeFileSync(path, `${JSON.stringify(def, null, 2)}\n`)
  } catch (err) {
    throw stateFolderError(dir, err)
  }
  return path
}

const ID = /^rp-\d{8}-\d{6}-[0-9a-f]{4}$/

/** True for a well-formed replay id (`rp-<yyyymmdd>-<hhmmss>-<4 hex>`). */
export function isReplayId(id: string): boolean {
  return ID.test(id)
}

/** @throws EvtError usage (exit 2) naming the id, for a malformed one. */
export function assertReplayId(id: string): void {
  if (!ID.test(id)) throw usageError(`"${id}" is not a replay id`, 'replay ids look like rp-20261129-141500-3fa2; the id is printed when a replay starts (evt replay status lists them)')
}

/** Path of a replay's state file. */
export function replayStatePath(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(replayStateDir(env), `${id}.json`)
}

/** Loads a definition. @throws EvtError usage (exit 2) for a malformed id or state file, not-found (exit 4) for an unknown id. */
export function loadReplay(id: string, env: NodeJS.ProcessEnv = process.env): ReplayDefinition {
  assertReplayId(id)
  const path = replayStatePath(id, env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw notFoundError(`no replay "${id}" on this machine (${path})`, 'the id is printed when a replay starts; resume on the machine that started it')
  }
  let def: Partial<ReplayDefinition>
  try {
    def = JSON.parse(text) as Partial<ReplayDefinition>
  } catch (err) {
    throw usageError(`the state file of replay "${id}" is not valid JSON (${path}): ${(err as Error).message}`, 'restore it, or start a new replay')
  }
  const complete = def.id === id && typeof def.source === 'string' && typeof def.target === 'string' && Array.isArray(def.partitions) && typeof def.transactionalId === 'string' && typeof def.progressGroup === 'string'
  if (!complete) throw usageError(`the state file of replay "${id}" is incomplete (${path})`, 'restore it, or start a new replay')
  return def as ReplayDefinition
}

/** A new replay id: `rp-<UTC yyyymmdd-hhmmss>-<4 hex>`. */
export function newReplayId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `rp-${stamp}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`
}

/** One state file found by {@link listReplays}: its definition, or why it could not be read. */
export type StoredReplay = { id: string; path: string; def: ReplayDefinition } | { id: string; path: string; error: string }

/** Every replay state file on this machine, oldest id first (ids sort by time). Never throws. */
export function listReplays(env: NodeJS.ProcessEnv = process.env): StoredReplay[] {
  let names: string[]
  try {
    names = readdirSync(replayStateDir(env))
  } catch {
    return []
  }
  const ids = names.filter((n) => n.endsWith('.json') && ID.test(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort()
  return ids.map((id) => {
    const path = replayStatePath(id, env)
    try {
      return { id, path, def: loadReplay(id, env) }
    } catch (err) {
      return { id, path, error: (err as Error).message }
    }
  })
}

/** Removes a replay's state file and its run marker (nothing there is fine). */
export function removeReplayState(id: string, env: NodeJS.ProcessEnv = process.env): void {
  assertReplayId(id)
  rmSync(replayStatePath(id, env), { force: true })
  rmSync(runMarkerPath(id, env), { force: true })
}

function runMarkerPath(id: string, env: NodeJS.ProcessEnv): string {
  return join(replayStateDir(env), `${id}.running`)
}

/**
 * Marks a replay as running in this process (`<id>.running`); call the returned function when the
 * run ends. The marker only informs `replay status` / `replay clean`: it locks nothing.
 */
export function markRunning(id: string, env: NodeJS.ProcessEnv = process.env): () => void {
  const path = runMarkerPath(id, env)
  try {
    makeDirs(replayStateDir(env))
    writeFileSync(path, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() })}\n`)
  } catch {
    return () => {}
  }
  return () => rmSync(path, { force: true })
}

/**
 * The process copying a replay now, from its run marker: `{ pid, host, startedAt }` when the marker
 * names a live process on this host (checked with signal 0 and, where /proc exists, that its
 * command line is evt's `replay`), else null (no marker, or a stale one left by `kill -9`).
 */
export function runningProcess(id: string, env: NodeJS.ProcessEnv = process.env): { pid: number; host: string; startedAt: string } | null {
  let marker: { pid?: unknown; host?: unknown; startedAt?: unknown }
  try {
    marker = JSON.parse(readFileSync(runMarkerPath(id, env), 'utf8')) as typeof marker
  } catch {
    return null
  }
  if (typeof marker.pid !== 'number' || marker.host !== hostname()) return null
  try {
    process.kill(marker.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null
  }
  const cmdline = `/proc/${marker.pid}/cmdline`
  if (existsSync('/proc/self') && !(existsSync(cmdline) && readFileSync(cmdline, 'utf8').includes('replay'))) return null // the pid was reused
  return { pid: marker.pid, host: marker.host, startedAt: String(marker.startedAt ?? '') }
}
