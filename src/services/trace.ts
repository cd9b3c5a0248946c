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
import { isEvtGroup } from '../kafka/evt-ids.ts'
import { isRequeueLedgerTopic } from '../kafka/internal-topics.ts'
import type { PartitionPlan } from '../kafka/reader.ts'
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
  const scan = async (toRead: PartitionPlan[], signal: AbortSignal | undefined, onMatch?: () => void) => {
    // needles: batches without the id are only counted, never turned into records; so a search
    // holds response bytes only, and asks for 8 MiB per request (1 MiB per partition), not 2
    for await (const chunk of reader.read(toRead, { signal, onWarning: options.onWarning, needles, memoryBudgetBytes: TRACE_MEMORY_BUDGET })) {
      result.scanned += chunk.records.length + chunk.skipped
      result.bytes += chunk.bytes
      const candidates = chunk.records.filter((raw) => containsAny(raw, needles))
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
  }
  await scan(plans, options.signal)
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
