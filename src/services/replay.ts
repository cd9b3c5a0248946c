/**
 * `evt replay`: a partition/offset/time range of a topic, either into a consumer group (set its
 * committed offsets so the service re-consumes) or copied into another topic, exactly once.
 *
 * Copy: records are read without a consumer group (read_committed) and written by a
 * transactional producer; each transaction also commits the source offsets it covered to the
 * replay's progress group (TxnOffsetCommit). A crash, `kill -9` or Ctrl-C leaves either a whole
 * transaction or none, so `--resume` continues exactly after the last committed one: as seen by
 * a read_committed consumer, every source record is in the target once.
 */
import type { Connection } from '../config/connection.ts'
import { RegistryDecoder } from '../codec/registry.ts'
import { EvtError, notFoundError, refusedError } from '../errors.ts'
import type { RecordFilter } from '../filter.ts'
import { replayProgressGroup } from '../kafka/evt-ids.ts'
import { assertWritableTopic } from '../kafka/internal-topics.ts'
import { partitionForKey } from '../kafka/partitioner.ts'
import type { PositionRange } from '../kafka/positions.ts'
import type { KafkaReader, PartitionPlan } from '../kafka/reader.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { KafkaAdmin, OrderedHeader } from '../kafka/types.ts'
import type { RawRecord } from '../record.ts'
import { moveExactlyOnce, type MoveDecision, type MoveProgress } from '../replay/move.ts'
import { markRunning, newReplayId, saveReplay, type ReplayDefinition } from '../replay/state.ts'

/** One source partition in a plan. */
export interface PartitionReplayPlan {
  partition: number
  /** First offset to replay. */
  start: number
  /** End offset, exclusive. */
  end: number
  /** Offsets in the range (`end − start`): an upper bound on its records (transaction markers and compacted-away offsets are offsets too). */
  offsets: number
  /**
   * Records in the range a read_committed reader sees (markers, compaction gaps and aborted records not
   * counted), when counted: ranges of at most {@link EXACT_COUNT_OFFSETS} offsets are; null for larger ones
   * (counting them would read them whole), where only `offsets` is known.
   */
  records: number | null
  /** Timestamps of the first and last record in the range (ms), when there are records. */
  firstTimestamp: number | null
  lastTimestamp: number | null
  /** Estimated bytes (keys + values + headers), from a sample of the range. */
  approxBytes: number
  /** Group mode: the group's committed offset now (null: none). */
  currentOffset?: number | null
}

/** What a replay will do, printed before anything is written. */
export interface ReplayPlan {
  source: string
  mode: 'group' | 'topic'
  /** Group id (group mode) or target topic (copy mode). */
  target: string
  partitions: PartitionReplayPlan[]
  /** Copy mode: how target partitions are chosen, and the target's partition count. */
  partitioning?: 'same' | 'key' | 'round-robin'
  targetPartitions?: number
  /** Group mode: the group exists already (offsets will be moved) or is new. */
  groupExists?: boolean
  /** Group mode: members consuming now (the replay is refused while there are any). */
  activeMembers?: number
}

/** @throws EvtError refused (exit 6) when the plan's group has active members. */
export function refuseActiveGroup(plan: ReplayPlan): void {
  const members = plan.activeMembers ?? 0
  if (plan.mode !== 'group' || members === 0) return
  throw refusedError(`consumer group "${plan.target}" has ${members} active member${members === 1 ? '' : 's'}: its offsets cannot be moved safely while it consumes`, `stop the service using it (all its instances), or replay into a new group: --group ${plan.target}-replay`)
}

/** Options for planning a replay. */
export interface ReplayRequest {
  source: string
  range: PositionRange
  partitions?: number[]
  group?: string
  toTopic?: string
  partitioning?: 'same' | 'key' | 'round-robin'
}

/** A plan counts the records of a partition's range exactly up to this many offsets (a read of the range); larger ranges report offsets only. */
export const EXACT_COUNT_OFFSETS = 10_000

/** Records sampled for the average size. */
const SAMPLE_RECORDS = 200

/**
 * The first and last record of `[plan.start, end)`, the average record size (keys, values, headers;
 * from up to 200 records at the start) and, for ranges of at most {@link EXACT_COUNT_OFFSETS} offsets,
 * the exact record count. The last record is found by counting back from `end`, so a range ending in
 * transaction markers or a compacted gap still has one.
 */
async function sampleRange(reader: KafkaReader, plan: PartitionPlan, end: number): Promise<{ first: RawRecord | null; last: RawRecord | null; avgBytes: number; records: number | null }> {
  if (plan.start >= end) return { first: null, last: null, avgBytes: 0, records: 0 }
  const size = (r: RawRecord) => (r.key?.length ?? 0) + (r.value?.length ?? 0) + r.headers.reduce((s, h) => s + h.key.length + (h.value?.length ?? 0), 0)
  let first: RawRecord | null = null
  let n = 0
  let bytes = 0
  const sampleEnd = Math.min(end, plan.start + SAMPLE_RECORDS)
  for await (const chunk of reader.read([{ ...plan, end: sampleEnd }], { maxWaitMs: 100 })) {
    for (const r of chunk.records) {
      first ??= r
      n++
      bytes += size(r)
    }
  }
  const request = { topic: plan.topic, partition: plan.partition, low: plan.start, high: end }
  const [lastAt] = await reader.countRecords([{ ...request, at: end, count: 1, direction: 'backward' }])
  let last: RawRecord | null = null
  for await (const chunk of reader.read([{ ...plan, start: lastAt, end: lastAt + 1 }], { maxWaitMs: 100 })) last = chunk.records[chunk.records.length - 1] ?? last
  const records = sampleEnd === end ? n : end - plan.start <= EXACT_COUNT_OFFSETS ? (await reader.countRanges([{ ...plan, end }]))[0] : null
  return { first, last, avgBytes: n ? bytes / n : 0, records }
}

/**
 * Resolves the range and describes what will change; writes nothing.
 * @throws EvtError not-found (topic, target topic), usage, refused (exit 6) for a group with active members,
 *   a target topic that is the source, or one of Kafka's internal topics (src/kafka/internal-topics.ts).
 */
export async function planReplay(session: KafkaSession, request: ReplayRequest): Promise<ReplayPlan> {
  if (request.toTopic) assertWritableTopic(request.toTopic, '--to-topic')
  // a copy into its own source: every consumer of the topic would get the records again, and a later replay of the range would copy the copies
  if (request.toTopic === request.source) throw refusedError(`--to-topic is the source topic "${request.source}": the copies would go to every consumer of it again`, `copy into another topic (evt topics create ${request.source}.replay, then --to-topic ${request.source}.replay), or re-process with a consumer group: --group <group>`)
  const reader = await session.reader('read_committed')
  const range: PositionRange = { from: request.range.from, to: request.range.to ?? { kind: 'end' } }
  const plans = await reader.plan([request.source], range, request.partitions)
  // the partitions are sampled at once (each sample is a few sequential reads)
  const partitions: PartitionReplayPlan[] = await Promise.all(plans.map(async (p) => {
    const end = p.end ?? p.high
    const sample = await sampleRange(reader, p, end)
    const offsets = Math.max(0, end - p.start)
    return { partition: p.partition, start: p.start, end, offsets, records: sample.records, firstTimestamp: sample.first?.timestamp ?? null, lastTimestamp: sample.last?.timestamp ?? null, approxBytes: Math.round(sample.avgBytes * (sample.records ?? offsets)) }
  }))
  if (request.group) {
    const group = request.group
    const { exists, members, committed } = await describeGroupForReplay(await session.admin(), group, request.source)
    for (const p of partitions) p.currentOffset = committed.get(p.partition) ?? null
    return { source: request.source, mode: 'group', target: group, partitions, groupExists: exists, activeMembers: members }
  }
  const target = request.toTopic!
  const meta = await reader.useTopics([target]).catch((err: unknown) => {
    if (err instanceof EvtError && err.kind === 'not-found') throw notFoundError(`target topic "${target}" does not exist`, `create it first (with at least ${Math.max(...plans.map((p) => p.partition)) + 1} partitions to keep partition numbers)`)
    throw err
  })
  const targetPartitions = meta.get(target)!.length
  const fits = plans.every((p) => p.partition < targetPartitions)
  const partitioning = request.partitioning ?? (fits ? 'same' : 'key')
  if (partitioning === 'same' && !fits) throw new EvtError('usage', `--partitioning same needs partition ${Math.max(...plans.map((p) => p.partition))} in "${target}", which has ${targetPartitions}`, { hint: 'use --partitioning key or round-robin, or add partitions to the target' })
  return { source: request.source, mode: 'topic', target, partitions, partitioning, targetPartitions }
}

async function describeGroupForReplay(admin: KafkaAdmin, group: string, topic: string): Promise<{ exists: boolean; members: number; committed: Map<number, number> }> {
  const [d] = await admin.describeGroups([group])
  const offsets = await admin.committedOffsets(group, [topic])
  const committed = new Map<number, number>()
  for (const t of offsets) for (const p of t.partitions) if (p.offset !== null && p.offset >= 0) committed.set(p.partition, p.offset)
  const exists = Boolean(d && d.state !== 'Dead') || committed.size > 0
  return { exists, members: d?.members.length ?? 0, committed }
}

/**
 * Group mode: sets the group's committed offsets to the planned starts (checked again for
 * active members right before). @throws EvtError refused (6) when the group became active.
 */
export async function applyGroupReplay(session: KafkaSession, plan: ReplayPlan): Promise<void> {
  const admin = await session.admin()
  const { members } = await describeGroupForReplay(admin, plan.target, plan.source)
  if (members > 0) throw refusedError(`consumer group "${plan.target}" became active: offsets not changed`, 'stop its consumers and run the replay again')
  await admin.setOffsets(plan.target, plan.source, plan.partitions.map((p) => ({ partition: p.partition, offset: p.start })))
}

/** Creates and stores the definition of a copy replay from its plan. */
export function defineCopy(connection: Connection, plan: ReplayPlan, options: { keepTimestamps?: boolean; filter?: string; rate?: number }): ReplayDefinition {
  const id = newReplayId()
  const def: ReplayDefinition = {
    id,
    createdAt: new Date().toISOString(),
    source: plan.source,
    target: plan.target,
    partitions: plan.partitions.map(({ partition, start, end }) => ({ partition, start, end })),
    partitioning: plan.partitioning ?? 'same',
    keepTimestamps: Boolean(options.keepTimestamps),
    filter: options.filter,
    rate: options.rate,
    transactionalId: replayProgressGroup(id),
    progressGroup: replayProgressGroup(id),
    brokers: connection.brokers,
  }
  saveReplay(def)
  return def
}

/** Counters of a copy, updated as it runs. */
export interface CopyProgress {
  /** Records written to the target by this run. */
  copied: number
  /** Records read and skipped by the filter in this run. */
  filtered: number
  /** Source offsets covered so far, earlier runs included (records, filtered ones, markers). */
  done: number
  /** Source offsets in the whole replay. */
  total: number
  /** When this run started, epoch ms. */
  startedAt: number
}

/** How a copy ended. */
export interface CopySummary extends CopyProgress {
  id: string
  elapsedMs: number
  interrupted: boolean
}

function copyProgress(p: MoveProgress): CopyProgress {
  return { copied: p.moved, filtered: p.skipped.filtered ?? 0, done: p.done, total: p.total, startedAt: p.startedAt }
}

/**
 * Copies (or resumes copying) the records of a replay definition, exactly once (see
 * replay/move.ts): provenance headers `evt-replay-source` (topic/partition/offset) and
 * `evt-replay-id` are appended to each record's headers.
 * @throws EvtError connect (3), not-found (4); a failure mid-way aborts the open transaction and the run can be resumed.
 */
export async function runCopy(session: KafkaSession, def: ReplayDefinition, options: { filter?: RecordFilter; signal?: AbortSignal; onProgress?: (p: CopyProgress) => void; sliceRecords?: number; onWarning?: (message: string) => void; strict?: boolean }): Promise<CopySummary> {
  const { connection } = session
  assertWritableTopic(def.target, '--to-topic')
  const admin = await session.admin()
  const meta = await admin.topicMetadata([def.target]).catch(() => {
    throw notFoundError(`target topic "${def.target}" does not exist`, 'create it, then resume')
  })
  const targetPartitions = meta[0].partitions.length
  let roundRobin = 0
  const targetPartition = (r: RawRecord) => {
    if (def.partitioning === 'same') return r.partition
    if (def.partitioning === 'round-robin' || r.key === null) return roundRobin++ % targetPartitions
    return partitionForKey(r.key, targetPartitions)
  }
  // the filter sees values decoded through the schema registry; the copy itself is byte-exact
  const decoder = new RegistryDecoder(connection.registry, { onWarning: options.onWarning, strict: options.strict, timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const decide = (r: RawRecord): MoveDecision => {
    if (options.filter && !options.filter(decoder.decodeRecord(r))) return { skip: 'filtered' }
    const headers: OrderedHeader[] = [...r.headers, { key: 'evt-replay-source', value: Buffer.from(`${r.topic}/${r.partition}/${r.offset}`) }, { key: 'evt-replay-id', value: Buffer.from(def.id) }]
    return { topic: def.target, partition: targetPartition(r), key: r.key, value: r.value, headers, timestamp: def.keepTimestamps ? r.timestamp : undefined }
  }
  const release = markRunning(def.id) // for replay status / clean: this run is alive
  const summary = await moveExactlyOnce(session, {
    source: def.source,
    partitions: def.partitions,
    transactionalId: def.transactionalId,
    progressGroup: def.progressGroup,
    decide,
    prepare: options.filter ? (records) => decoder.prepare(records) : undefined,
    rate: def.rate,
    signal: options.signal,
    sliceRecords: options.sliceRecords,
    onRetry: (err, attempt) => options.onWarning?.(`a transaction failed (${err.message}); retrying (${attempt})`),
    onProgress: options.onProgress && ((p) => options.onProgress!(copyProgress(p))),
  }).finally(release)
  return { ...copyProgress(summary), id: def.id, elapsedMs: summary.elapsedMs, interrupted: summary.interrupted }
}
