/**
 * Names for shell completion: the cluster's topics or consumer groups, kept for a short time in a
 * cache file so that pressing Tab again does not ask the cluster again.
 *
 * Cache: `$XDG_STATE_HOME/evt/completion/<kind>-<hash of the brokers>.json` (else
 * `~/.local/state/evt/…`), `{"v":1,"at":<epoch ms>,"names":[…]}`, used while younger than
 * {@link COMPLETION_TTL_MS}. One file per broker list, so profiles do not mix.
 */
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { evtGroup } from '../kafka/evt-ids.ts'
import { isInternalTopic } from './topics.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { makeDirs } from '../util/fs.ts'

/** What can be completed. */
export const COMPLETION_KINDS = ['topics', 'groups'] as const
export type CompletionKind = (typeof COMPLETION_KINDS)[number]

/** How long cached names are used, ms. */
export const COMPLETION_TTL_MS = 60_000

/** Folder of the completion cache. */
export function completionCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'evt', 'completion')
}

/** The cache file of `kind` on the cluster at `brokers`. */
export function completionCacheFile(kind: CompletionKind, brokers: string[], env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update([...brokers].sort().join(',')).digest('hex').slice(0, 16)
  return join(completionCacheDir(env), `${kind}-${key}.json`)
}

/** The cached names when the file exists, is readable and younger than `ttlMs` at `now`. */
function readCache(file: string, now: number, ttlMs: number): string[] | undefined {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { v?: number; at?: number; names?: unknown }
    if (doc.v !== 1 || typeof doc.at !== 'number' || !Array.isArray(doc.names)) return undefined
    if (now - doc.at > ttlMs || doc.at > now) return undefined
    return doc.names.filter((n): n is string => typeof n === 'string')
  } catch {
    return undefined
  }
}

/** Writes the cache (whole file replaced at once); a cache that cannot be written is only not kept. */
function writeCache(file: string, names: string[], now: number): void {
  try {
    makeDirs(join(file, '..'))
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify({ v: 1, at: now, names })}\n`)
    renameSync(tmp, file)
  } catch {
    // read-only home, full disk: completion still works, uncached
  }
}

/**
 * Topic names (without Kafka's internal topics and evt's requeue ledgers) or consumer group ids
 * (without evt's own progress groups), sorted, from the cache when fresh, else from the cluster.
 * `fromCache` says which.
 * @throws EvtError connect (3) when the cluster cannot be reached and the cache is stale or absent.
 */
export async function completionNames(session: KafkaSession, kind: CompletionKind, options: { env?: NodeJS.ProcessEnv; now?: number; ttlMs?: number } = {}): Promise<{ names: string[]; fromCache: boolean }> {
  const now = options.now ?? Date.now()
  const file = completionCacheFile(kind, session.connection.brokers, options.env)
  const cached = readCache(file, now, options.ttlMs ?? COMPLETION_TTL_MS)
  if (cached) return { names: cached, fromCache: true }
  const admin = await session.admin()
  const names = kind === 'topics'
    ? (await admin.listTopics()).filter((t) => !isInternalTopic(t))
    : (await admin.listGroups()).map((g) => g.groupId).filter((g) => evtGroup(g) === null)
  names.sort()
  writeCache(file, names, now)
  return { names, fromCache: false }
}
