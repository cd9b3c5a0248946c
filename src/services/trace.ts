/**
 * `evt trace <correlation-id>`: every record of one request across topics, as a causal graph.
 *
 * The search reads all partitions of the chosen topics in parallel without a consumer group,
 * from the offsets of `since` (timestamp lookup) to the end offsets taken at start. The id is
 * looked for in the raw key, header and value bytes first; only records that contain it are
 * decoded and their envelope extracted, so the scan costs little more than the fetch.
 */
import picomatch from 'picomatch'
import { RegistryDecoder } from '../codec/registry.ts'
import { createExtractor, createTypeFallback, searchNeedles, valuePreview, type EnvelopeConfig, type EventMeta } from '../envelope/index.ts'
import { notFoundError } from '../errors.ts'
import type { IndexStore } from '../index-store/types.ts'
import { isEvtGroup } from '../kafka/evt-ids.ts'
import { isRequeueLedgerTopic } from '../kafka/internal-topics.ts'
import type { KafkaReader, PartitionPlan } from '../kafka/reader.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { RawRecord } from '../record.ts'
import { buildGraph, recordId, type TraceGraph, type TraceRecord } from '../trace/graph.ts'
import { markStalls } from '../trace/stall.ts'
import { mapWithConcurrency } from '../util/concurrency.ts'

/** The memory budget of a trace's read (see ReadOptions.memoryBudgetBytes): 32 MiB, fetches of 8 MiB. */
const TRACE_MEMORY_BUDGET = 32 * 1024 * 1024

/** What to search. */
export interface TraceOptions {
  id: string
  /** Topic names or globs; default: every topic not starting with `__`. */
  topics?: string[]
  /** Window start, epoch ms. */
  since: number
  /** Window end, epoch ms; default: the end offsets at start. */
  until?: number
  envelope?: Partial<EnvelopeConfig>
  /** Keep reading new records after the initial scan (follow, expect). */
  live?: boolean
  /** Stop the live phase when this returns true for the records so far. */
  stopWhen?: (records: TraceRecord[]) => boolean
  signal?: AbortSignal
  /** Called after the initial scan and after each new matching record in the live phase. */
  onUpdate?: (result: TraceResult) => void
  onWarning?: (message: string) => void
  /** Fail (exit 3) when the schema registry cannot be reached, instead of showing records raw. */
  strict?: boolean
  /** Look up which consumer groups have consumed each record (default true). */
  consumption?: boolean
  /**
   * A record not consumed by a group reading its topic, or a request's last record consumed by
   * all of them with nothing following, for longer than this (ms) is flagged `stalled`
   * (src/trace/stall.ts). Default: the profile's `trace.stallAfter`, else 5 minutes.
   */
  stallAfterMs?: number
  /** The clock stalls are measured against, epoch ms (default Date.now). */
  now?: () => number
  /**
   * A trace index (src/index-store): records are looked up there and fetched by offset; only what
   * the index has not reached is scanned. Partitions it does not cover from the window start are
   * scanned in full (named in {@link TraceResult.index}).
   */
  index?: IndexStore
}

/** What came from the index and what from the scan (a trace through an index). */
export interface TraceIndexUse {
  /** The store, described. */
  store: string
  /** Pointer rows of the id in the window, and records fetched by them. */
  pointers: number
  fetched: number
  /** Partitions answered by the index up to its reach (then scanned from there to the end). */
  indexedPartitions: number
  /** Records scanned after the index's reach on those partitions. */
  scannedAfterIndex: number
  /** Partitions scanned in full: not in the index, or indexed only from after the window start. */
  fallback: Array<{ topic: string; partition: number; reason: 'not-indexed' | 'indexed-from-later' }>
  /** Wall time of the lookup and the fetch by offset, ms. */
  lookupMs: number
}

/** `trace --stall-after` when neither the flag nor the profile sets it: 5 minutes, in ms. */
export const DEFAULT_STALL_AFTER_MS = 5 * 60_000

/** Whether a consumer group has read a record (the `--json` contract's `consumption[]`). */
export interface RecordConsumption {
  group: string
  status: 'consumed' | 'pending'
  /** The group's committed offset on the record's partition. */
  committedOffset: number
  /** Records between the committed offset and the high watermark. */
  lag: number
}

/** Everything a trace found. */
export interface TraceResult {
  id: string
  window: { since: number; until: number | null }
  topics: string[]
  /** Records read (all of them, not only matches) and their bytes. */
  scanned: number
  bytes: number
  records: TraceRecord[]
  graph: TraceGraph
  /** By record id (`topic/partition@offset`). */
  consumption: Map<string, RecordConsumption[]>
  /** True while the live phase runs. */
  live: boolean
  /** With an index: what it answered and what was scanned. */
  index?: TraceIndexUse
}

/**
 * Picks topics: every topic but Kafka's internal ones (`__*`) and evt's requeue ledgers
 * (`*.evt-requeued`), or those matching the names/globs given (globs never match requeue ledgers).
 * @throws EvtError not-found when a plain name (no glob characters) does not exist, or nothing matches.
 */
export function selectTopics(all: string[], wanted: string[] | undefined): string[] {
  if (!wanted?.length) return all.filter((t) => !t.startsWith('__') && !isRequeueLedgerTopic(t))
  const out = new Set<string>()
  for (const w of wanted) {
    if (!/[*?[\]{}!]/.test(w)) {
      if (!all.includes(w)) throw notFoundError(`topic "${w}" does not exist`, 'list topics with: evt topics')
      out.add(w)
      continue
    }
    const match = picomatch(w, { dot: true })
    // a glob leaves evt's requeue ledgers out (name one to search it)
    for (const t of all) if (match(t) && !isRequeueLedgerTopic(t)) out.add(t)
  }
  if (out.size === 0) throw notFoundError(`no topic matches ${wanted.join(', ')}`, 'list topics with: evt topics')
  return [...out].sort()
}

/** True when any needle occurs in the key, a header value or the value. */
export function containsAny(record: RawRecord, needles: Buffer[]): boolean {
  for (const n of needles) {
    if (record.value && record.value.indexOf(n) !== -1) return true
    if (record.key && record.key.indexOf(n) !== -1) return true
    for (const h of record.headers) if (h.value && h.value.indexOf(n) !== -1) return true
  }
  return false
}

/**
 * A candidate (its bytes contain the id) belongs to the request when its correlation or trace
 * id is the id, when a header carries exactly the id (e.g. MassTransit's CorrelationId beside a
 * ConversationId), or when no correlation id could be extracted at all.
 */
function belongsTo(raw: RawRecord, meta: EventMeta, id: string): boolean {
  if (meta.correlationId === undefined || meta.correlationId === id || meta.traceId === id) return true
  const bytes = Buffer.from(id)
  return raw.headers.some((h) => h.value !== null && h.value.equals(bytes))
}

function preview(record: RawRecord): string {
  if (record.value === null) return '(tombstone)'
  const text = record.value.subarray(0, 400).toString('utf8')
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

/**
 * Runs a trace: the initial bounded scan, then (with `live`) follows new records until
 * `stopWhen` holds or `signal` aborts. Returns the final result.
 * @throws EvtError connect (3), not-found (4).
 */
export async function trace(session: KafkaSession, options: TraceOptions): Promise<TraceResult> {
  const { connection } = session
  const reader = await session.reader('read_committed')
  const envelope = options.envelope ?? connection.envelope
  const extract = createExtractor(envelope)
  const typeOf = createTypeFallback(envelope)
  const stallAfterMs = options.stallAfterMs ?? connection.trace?.stallAfterMs ?? DEFAULT_STALL_AFTER_MS
  const now = options.now ?? Date.now
  let live = false
  const decoder = new RegistryDecoder(connection.registry, { onWarning: options.onWarning, strict: options.strict, timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const needles = searchNeedles(options.id)
  const records: TraceRecord[] = []
  const result: TraceResult = { id: options.id, window: { since: options.since, until: options.until ?? null }, topics: [], scanned: 0, bytes: 0, records, graph: buildGraph([]), consumption: new Map(), live: false }
  result.topics = selectTopics(await reader.topicNames(), options.topics)
  const range = { from: { kind: 'time' as const, timestamp: options.since }, to: options.until === undefined ? { kind: 'end' as const } : { kind: 'time' as const, timestamp: options.until } }
  const plans = await reader.plan(result.topics, range)
  // the records whose bytes contain the id: decoded, their envelope extracted, kept when they belong to the request
  const examine = async (batch: RawRecord[], onMatch?: () => void) => {
    const candidates = batch.filter((raw) => containsAny(raw, needles))
    if (candidates.length) await decoder.prepare(candidates)
    for (const raw of candidates) {
      const decoded = decoder.decodeRecord(raw)
      const meta = extract(decoded)
      if (!belongsTo(raw, meta, options.id)) continue
      // no envelope named the type: common headers and value fields, else a one-line preview says what it is
      const fallback = meta.eventType === undefined ? typeOf(decoded) : undefined
      if (fallback) meta.eventType = fallback.type
      records.push({
        topic: raw.topic,
        partition: raw.partition,
        offset: raw.offset,
        timestamp: raw.timestamp,
        key: raw.key === null ? null : raw.key.toString('utf8'),
        headers: raw.headers,
        meta,
        preview: preview(raw),
        summary: meta.eventType === undefined ? valuePreview(decoded) : undefined,
        typeFrom: fallback?.from,
        keyBytes: raw.key,
        keyDecoded: decoded.keyDecoded,
        value: raw.value,
        valueDecoded: decoded.valueDecoded,
        live,
      })
      onMatch?.()
    }
  }
  const scan = async (toRead: PartitionPlan[], signal: AbortSignal | undefined, onMatch?: () => void, onChunk?: (chunk: { topic: string; partition: number }, records: number) => void) => {
    // needles: batches without the id are only counted, never turned into records; so a search
    // holds response bytes only, and asks for 8 MiB per request (1 MiB per partition), not 2
    for await (const chunk of reader.read(toRead, { signal, onWarning: options.onWarning, needles, memoryBudgetBytes: TRACE_MEMORY_BUDGET })) {
      result.scanned += chunk.records.length + chunk.skipped
      result.bytes += chunk.bytes
      onChunk?.(chunk, chunk.records.length + chunk.skipped)
      await examine(chunk.records, onMatch)
    }
  }
  const started = Date.now()
  const looked = options.index
    ? await indexLookup(options.index, options.id, plans).catch((err: Error) => {
        // the store went away between opening and the lookup: the scan answers
        options.onWarning?.(`the trace index could not be read (${err.message}); scanning instead`)
        return undefined
      })
    : undefined
  if (looked) {
    const { toScan, pointers, use } = looked
    const fetched = await fetchByOffset(reader, pointers, options.signal, options.onWarning)
    use.fetched = fetched.length
    result.bytes += fetched.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0)
    await examine(fetched)
    use.lookupMs = Date.now() - started
    result.index = use
    const afterReach = new Set(toScan.filter((p) => !use.fallback.some((f) => f.topic === p.topic && f.partition === p.partition)).map((p) => `${p.topic}/${p.partition}`))
    // records scanned past the index's reach are told apart from those of partitions scanned in full
    await scan(toScan, options.signal, undefined, (chunk, n) => {
      if (afterReach.has(`${chunk.topic}/${chunk.partition}`)) use.scannedAfterIndex += n
    })
  } else {
    await scan(plans, options.signal)
  }
  let lookupFailing = false
  const refresh = async (live: boolean) => {
    result.graph = buildGraph(records)
    if (options.consumption === false || !records.length) return
    try {
      result.consumption = await consumption(session, records, plans)
      markStalls(result.graph, result.consumption, now(), stallAfterMs)
      lookupFailing = false
    } catch (err) {
      // while following, the groups are an annotation: a failed lookup (brokers restarting) must not end the
      // trace; the records are shown without fresh consumption, and the next new record looks again
      if (!live) throw err
      if (!lookupFailing) options.onWarning?.(`consumer groups could not be looked up (${(err as Error).message}); showing records without them until a lookup works`)
      lookupFailing = true
    }
  }
  await refresh(false)
  if (!options.live || options.signal?.aborted || options.stopWhen?.(records)) return result
  result.live = true
  live = true
  options.onUpdate?.(result)
  const livePlans = plans.map((p) => ({ ...p, start: p.end ?? p.high, end: undefined }))
  const controller = new AbortController()
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true })
  let refreshing = Promise.resolve()
  let updateFailure: { error: unknown } | undefined
  // one refresh at a time, and at most one waiting: records that arrive meanwhile are in the next one
  let refreshQueued = false
  const liveScan = scan(livePlans, controller.signal, () => {
    if (refreshQueued) return
    refreshQueued = true
    refreshing = refreshing.then(async () => {
      refreshQueued = false
      // stopped: no more lookups (after a cluster restart each may be slow), the final result is shown now
      if (updateFailure || controller.signal.aborted) return
      await refresh(true)
      options.onUpdate?.(result)
      if (options.stopWhen?.(records)) controller.abort()
    }).catch((error: unknown) => {
      // kept for the end (a rejected chain nobody awaits yet would crash the process)
      updateFailure ??= { error }
      controller.abort()
    })
  })
  const stopWatch = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }))
  await Promise.race([liveScan.catch((err) => { if (!controller.signal.aborted) throw err }), stopWatch])
  controller.abort()
  await refreshing
  if (updateFailure) throw updateFailure.error
  result.live = false
  return result
}

/**
 * Splits a trace's plans between the index and the scan: for each partition the index reaches from
 * the window start, the pointer rows of `id` inside `[start, min(end, reach))` are returned and only
 * `[reach, end)` is left to scan; other partitions are scanned in full.
 */
export async function indexLookup(store: IndexStore, id: string, plans: PartitionPlan[]): Promise<{ toScan: PartitionPlan[]; pointers: PointerRange[]; use: TraceIndexUse }> {
  const topics = [...new Set(plans.map((p) => p.topic))]
  const [reach, rows] = await Promise.all([store.reach(topics), store.lookup('correlation', id)])
  const reachOf = new Map(reach.map((r) => [`${r.topic}/${r.partition}`, r]))
  const rowsOf = new Map<string, number[]>()
  for (const r of rows) {
    const k = `${r.topic}/${r.partition}`
    if (!rowsOf.has(k)) rowsOf.set(k, [])
    rowsOf.get(k)!.push(r.offset)
  }
  const use: TraceIndexUse = { store: store.description, pointers: 0, fetched: 0, indexedPartitions: 0, scannedAfterIndex: 0, fallback: [], lookupMs: 0 }
  const toScan: PartitionPlan[] = []
  const pointers: PointerRange[] = []
  for (const p of plans) {
    const k = `${p.topic}/${p.partition}`
    const end = p.end ?? p.high
    if (p.start >= end) continue
    const r = reachOf.get(k)
    if (!r || r.from > p.start) {
      use.fallback.push({ topic: p.topic, partition: p.partition, reason: r ? 'indexed-from-later' : 'not-indexed' })
      toScan.push(p)
      continue
    }
    use.indexedPartitions++
    const upTo = Math.min(end, r.next)
    const offsets = (rowsOf.get(k) ?? []).filter((o) => o >= p.start && o < upTo).sort((a, b) => a - b)
    use.pointers += offsets.length
    // offsets close to each other are read as one range (one fetch returns whole batches anyway)
    for (let i = 0; i < offsets.length; ) {
      let j = i
      while (j + 1 < offsets.length && offsets[j + 1] - offsets[j] <= POINTER_RUN_GAP) j++
      pointers.push({ plan: { ...p, start: offsets[i], end: offsets[j] + 1 }, offsets: new Set(offsets.slice(i, j + 1)) })
      i = j + 1
    }
    if (upTo < end) toScan.push({ ...p, start: upTo })
  }
  return { toScan, pointers, use }
}

/** Offsets of one partition read together: `plan` spans them, only `offsets` are kept. */
export interface PointerRange {
  plan: PartitionPlan
  offsets: Set<number>
}

/** Pointers at most this many offsets apart are fetched as one range. */
const POINTER_RUN_GAP = 64

/**
 * Fetches the records at the pointers' offsets: ranges of one partition one after another, the
 * partitions in parallel (one read per round, each round taking the next range of every partition).
 */
async function fetchByOffset(reader: KafkaReader, pointers: PointerRange[], signal: AbortSignal | undefined, onWarning: ((m: string) => void) | undefined): Promise<RawRecord[]> {
  const byPartition = new Map<string, PointerRange[]>()
  for (const p of pointers) {
    const k = `${p.plan.topic}/${p.plan.partition}`
    if (!byPartition.has(k)) byPartition.set(k, [])
    byPartition.get(k)!.push(p)
  }
  const out: RawRecord[] = []
  for (let round = 0; ; round++) {
    const ranges = [...byPartition.values()].map((list) => list[round]).filter((p): p is PointerRange => p !== undefined)
    if (ranges.length === 0) return out
    const wanted = new Map(ranges.map((p) => [`${p.plan.topic}/${p.plan.partition}`, p.offsets]))
    for await (const chunk of reader.read(ranges.map((p) => p.plan), { signal, onWarning, maxWaitMs: 100, partitionMaxBytes: 256 * 1024 })) {
      const keep = wanted.get(`${chunk.topic}/${chunk.partition}`)!
      for (const r of chunk.records) if (keep.has(Number(r.offset))) out.push(r)
    }
  }
}

/**
 * For each record, the consumer groups that have committed offsets on its partition, and
 * whether they are past it; evt's own progress groups (src/kafka/evt-ids.ts) are never listed. Groups are read with the admin API (OffsetFetch), one call each.
 */
export async function consumption(session: KafkaSession, records: TraceRecord[], plans: PartitionPlan[]): Promise<Map<string, RecordConsumption[]>> {
  const topics = [...new Set(records.map((r) => r.topic))]
  const admin = await session.admin()
  const groups = await admin.listGroups()
  // evt's own progress groups (replay, requeue) copied records; they are not consumers of the request
  const consumers = groups.filter((g) => (!g.protocolType || g.protocolType === 'consumer') && !isEvtGroup(g.groupId))
  // one OffsetFetch per group, several in flight (clusters have hundreds of groups); folded in list order
  const fetched = await mapWithConcurrency(consumers, 16, (g) => admin.committedOffsets(g.groupId, topics).catch(() => []))
  const committed = new Map<string, Array<{ group: string; offset: number }>>()
  for (const [i, g] of consumers.entries()) {
    const offsets = fetched[i]
    for (const t of offsets) {
      for (const p of t.partitions) {
        if (p.offset === null || p.offset < 0) continue
        const k = `${t.topic}/${p.partition}`
        if (!committed.has(k)) committed.set(k, [])
        committed.get(k)!.push({ group: g.groupId, offset: p.offset })
      }
    }
  }
  const highs = new Map(plans.map((p) => [`${p.topic}/${p.partition}`, p.high]))
  const out = new Map<string, RecordConsumption[]>()
  for (const r of records) {
    const k = `${r.topic}/${r.partition}`
    const list = (committed.get(k) ?? []).map(({ group, offset }) => ({
      group,
      status: offset > Number(r.offset) ? ('consumed' as const) : ('pending' as const),
      committedOffset: offset,
      lag: Math.max(0, (highs.get(k) ?? offset) - offset),
    }))
    out.set(recordId(r), list.sort((a, b) => a.group.localeCompare(b.group)))
  }
  return out
}
