/**
 * `evt index status` and `evt index drop`: how far a trace index reaches, per partition, against
 * the partitions' end offsets; and removing it (its rows and its workers' consumer group).
 */
import type { IndexStore } from '../index-store/types.ts'
import { indexGroup } from '../kafka/evt-ids.ts'
import type { KafkaSession } from '../kafka/session.ts'

/** One indexed partition. */
export interface PartitionStatus {
  topic: string
  partition: number
  /** First offset indexed. */
  from: number
  /** Next offset to index: records before it are indexed. */
  indexedOffset: number
  /** The partition's end offset now (last stable offset), null when the topic is gone. */
  endOffset: number | null
  /** endOffset − indexedOffset (offsets: records, and transaction markers), null when unknown. */
  lag: number | null
  /** Pointer rows stored for the partition. */
  rows: number
}

/** Everything `evt index status` shows (the --json contract: docs/schemas/index-status.schema.json). */
export interface IndexStatus {
  name: string
  group: string
  /** The store as given (`local`, a URL with its password hidden). */
  storeArg: string
  /** The store, described (a file path, a URL with its password hidden). */
  store: string
  /** Stable, Empty, Dead (no group: no worker ever ran or it was dropped), … */
  groupState: string
  /** Workers in the group now. */
  members: number
  rows: number
  /** Bytes of the store (file, or tables with their indexes). */
  sizeBytes: number
  partitions: PartitionStatus[]
}

/**
 * Reads the store's reach and row counts and the partitions' end offsets.
 * @throws EvtError connect (3) for Kafka or the store.
 */
export async function indexStatus(session: KafkaSession, store: IndexStore, name: string, storeArg: string): Promise<IndexStatus> {
  const group = indexGroup(name)
  const admin = await session.admin()
  const [partitions, sizeBytes, [described], topics] = await Promise.all([store.status(), store.sizeBytes(), admin.describeGroups([group]), admin.listTopics()])
  const existing = new Set(topics)
  const reader = await session.reader('read_committed')
  const indexedTopics = [...new Set(partitions.map((p) => p.topic))].filter((t) => existing.has(t))
  const bounds = indexedTopics.length ? await reader.bounds(await reader.useTopics(indexedTopics)) : new Map()
  const out: PartitionStatus[] = partitions.map((p) => {
    const high: number | undefined = bounds.get(`${p.topic}/${p.partition}`)?.high
    return { topic: p.topic, partition: p.partition, from: p.from, indexedOffset: p.next, endOffset: high ?? null, lag: high === undefined ? null : Math.max(0, high - p.next), rows: p.rows }
  })
  return { name, group, storeArg, store: store.description, groupState: described?.state ?? 'Dead', members: described?.members.length ?? 0, rows: out.reduce((n, p) => n + p.rows, 0), sizeBytes, partitions: out }
}

/** What `evt index drop` will remove. */
export interface IndexDropPlan {
  name: string
  group: string
  store: string
  rows: number
  partitions: number
  /** The group exists (it is deleted too). */
  groupExists: boolean
  /** Workers still in the group: the drop is refused while there are any. */
  members: number
}

/** Reads what a drop would remove. @throws EvtError connect (3). */
export async function planIndexDrop(session: KafkaSession, store: IndexStore, name: string): Promise<IndexDropPlan> {
  const group = indexGroup(name)
  const admin = await session.admin()
  const [status, [described]] = await Promise.all([store.status(), admin.describeGroups([group])])
  return { name, group, store: store.description, rows: status.reduce((n, p) => n + p.rows, 0), partitions: status.length, groupExists: Boolean(described && described.state !== 'Dead'), members: described?.members.length ?? 0 }
}

/**
 * Deletes the workers' group (so a new worker starts from the beginning), then every row and
 * reach entry of the store. Running it again finds nothing and changes nothing.
 * @throws EvtError connect (3).
 */
export async function dropIndex(session: KafkaSession, store: IndexStore, plan: IndexDropPlan): Promise<{ group: 'deleted' | 'not-found' | 'not-empty'; rows: number }> {
  const admin = await session.admin()
  const [outcome] = await admin.deleteGroups([plan.group])
  if (outcome.outcome === 'not-empty') return { group: 'not-empty', rows: 0 }
  await store.drop()
  return { group: outcome.outcome, rows: plan.rows }
}
