/**
 * What a replay needs to be resumed: its definition, kept in a small JSON file per replay id
 * (`$XDG_STATE_HOME/evt/replays/<id>.json`, else `~/.local/state/evt/replays/<id>.json`).
 * Progress itself is not here: it lives in Kafka, as the committed offsets of the replay's
 * progress group, written in the same transaction as the copied records.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { notFoundError, usageError } from '../errors.ts'

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

/** Stores a definition (overwrites). */
export function saveReplay(def: ReplayDefinition, env: NodeJS.ProcessEnv = process.env): string {
  const dir = replayStateDir(env)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${def.id}.json`)
  writeFileSync(path, `${JSON.stringify(def, null, 2)}\n`)
  return path
}

/** Loads a definition. @throws EvtError usage (exit 2) for a malformed id or state file, not-found (exit 4) for an unknown id. */
export function loadReplay(id: string, env: NodeJS.ProcessEnv = process.env): ReplayDefinition {
  if (!/^rp-\d{8}-\d{6}-[0-9a-f]{4}$/.test(id)) throw usageError(`"${id}" is not a replay id`, 'replay ids look like rp-20261129-141500-3fa2; the id is printed when a replay starts')
  const path = join(replayStateDir(env), `${id}.json`)
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
