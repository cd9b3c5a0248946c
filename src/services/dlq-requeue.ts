/**
 * `evt dlq requeue <dlq-topic>`: send dead-letter records back to where they came from, exactly
 * once and idempotently.
 *
 * Each record goes to its original topic (from its dead-letter headers) or to `--to`, with key,
 * value and headers kept, the dead-letter error headers removed (unless kept), `evt-requeue-count`
 * incremented (from the header, or from the ledger when the record was requeued before) and
 * `evt-requeued-from` (dlq topic/partition/offset) added; to the original
 * partition when known and present, else by key. Records requeued `maxRequeues` times already are
 * skipped (loop guard).
 *
 * Write guards (src/kafka/internal-topics.ts): a record whose dead-letter header names an internal
 * topic (`__*`, `_schemas`, Kafka Connect's topics, the profile's `protectedTopics`) is skipped as `internal-topic`; `--to` may name a
 * platform topic but never a `__*` one. A target that does not follow the DLQ's naming convention
 * (`orders.events-dlt` → `orders.events`) is listed in the plan's `unexpectedTargets` and is written
 * only when allowed (`--allow-target`, or confirmed on a terminal); otherwise its records are skipped
 * as `target-not-allowed`. Writes go through replay/move.ts: transactional, with the DLQ offsets
 * committed in the same transactions to a progress group named after the DLQ topic and the
 * selection, so running the same requeue again sends nothing, and a crash resumes without
 * duplicates.
 *
 * The requeue ledger (src/dlq/ledger.ts, topic `<dlq>.evt-requeued`) makes this hold across
 * selections: every requeued record gets a ledger entry in the same transaction, and records the
 * ledger lists are skipped as `already-requeued` by any later requeue of that DLQ (any selection,
 * the CLI or the `dlq inspect` browser) unless `again` is set.
 */
import { createHash } from 'node:crypto'
import { decodeRecord } from '../codec/decode.ts'
import { RegistryDecoder } from '../codec/registry.ts'
import { conventionalSources } from '../dlq/detect.ts'
import { isFailureHeader, parseFailure, type DlqFailure } from '../dlq/failure.ts'
import type { DlqRecordFilter } from '../dlq/filter.ts'
import { groupKey, type DlqGroupBy } from '../dlq/group.ts'
import { legacyRequeueProgressGroup, requeueProgressGroup } from '../kafka/evt-ids.ts'
import { notFoundError, refusedError } from '../errors.ts'
import { ensureLedger, ledgerRecord, readLedger, requeuedEntry, settleLedger, type RequeueLedger } from '../dlq/ledger.ts'
import { assertWritableTopic, isRequeueLedgerTopic, REQUEUE_LEDGER_SUFFIX, writeRefusal } from '../kafka/internal-topics.ts'
import { partitionForKey } from '../kafka/partitioner.ts'
import type { PositionRange } from '../kafka/positions.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { OrderedHeader } from '../kafka/types.ts'
import type { DecodedRecord, RawRecord } from '../record.ts'
import { moveExactlyOnce, progressOffsets, whileCoordinatorLoads, type MoveDecision, type MoveProgress, type MoveSummary } from '../replay/move.ts'

import { REQUEUE_COUNT_HEADER, REQUEUED_FROM_HEADER } from '../replay/provenance.ts'

/** The requeue provenance headers (defined with replay's in src/replay/provenance.ts). */
export { REQUEUE_COUNT_HEADER, REQUEUED_FROM_HEADER }

/** What to requeue. */
export interface RequeueRequest {
  dlqTopic: string
  /** Positions in the DLQ (default start:end; an open end is closed at the end taken at start). */
  range: PositionRange
  partitions?: number[]
  filter?: DlqRecordFilter
  /** Only records of this failure class (`--group-by exception=java.net.SocketTimeoutException`). */
  only?: { by: DlqGroupBy; value: string }
  /** Send everything to this topic instead of the original topics. */
  to?: string
  keepErrorHeaders?: boolean
  /** Targets named by dead-letter headers that do not follow the DLQ's naming convention but may be written (`--allow-target`). */
  allowTargets?: string[]
  /** Loop guard (default 3). */
  maxRequeues?: number
  rate?: number
  /** Requeue records the requeue ledger lists as requeued already, too (`--again`). */
  again?: boolean
}

/** A DLQ record the requeue ledger lists as requeued (the plan's `alreadyRequeued[]`). */
export interface AlreadyRequeued {
  partition: number
  offset: number
  /** When it was requeued, epoch ms. */
  requeuedAt: number
  /** Where its copy went. */
  topic: string
  toPartition: number
}

/** At most this many already-requeued records are listed in a plan (all are counted). */
export const ALREADY_REQUEUED_LISTED = 100

/** What a requeue will do (and, after it ran, did). The `--json` contract of the plan. */
export interface RequeuePlan {
  dlqTopic: string
  progressGroup: string
  /** DLQ partitions and the offsets still to go through (`start` = progress so far). */
  partitions: Array<{ partition: number; start: number; end: number }>
  /** Records per target topic. */
  targets: Array<{ topic: string; records: number }>
  /** Records per failure class (exception, or reason). */
  classes: Array<{ exception: string; records: number }>
  /**
   * Records that will not be sent, by reason: filtered, not-selected, loop-guard, no-original-topic,
   * target-missing, internal-topic (a header names an internal topic), target-not-allowed.
   */
  skipped: Record<string, number>
  /** Internal topics named by dead-letter headers (those records are `internal-topic`). */
  refusedTargets: string[]
  /**
   * Targets (in `targets`) that do not follow the DLQ's naming convention (`orders.events-dlt` →
   * `orders.events`): written only when in the request's `allowTargets` (or confirmed). Empty with `--to`.
   */
  unexpectedTargets: string[]
  /** Target topics named by records that do not exist (those records are `target-missing`). */
  missingTargets: string[]
  /** The DLQ's requeue ledger: its topic, whether it exists yet (a run creates it), and its entries. */
  ledger: { topic: string; exists: boolean; entries: number }
  /** `--again`: records the ledger lists are sent again (they are in `targets`), not skipped. */
  again: boolean
  /**
   * Records of the selection the ledger lists as requeued (skipped as `already-requeued`, or sent
   * again with `again`): the first {@link ALREADY_REQUEUED_LISTED} in DLQ order; `alreadyRequeuedCount` counts all.
   */
  alreadyRequeued: AlreadyRequeued[]
  alreadyRequeuedCount: number
}

function selectionHash(request: RequeueRequest, filterText?: string): string {
  // `again` only when set, so the groups of earlier requeues keep their names
  const selection = JSON.stringify({ filter: filterText ?? null, only: request.only ?? null, to: request.to ?? null, partitions: request.partitions ?? null, again: request.again || undefined })
  return createHash('sha256').update(selection).digest('hex').slice(0, 8)
}

/**
 * The progress group (also the transactional id) of a requeue: DLQ topic + a hash of the selection,
 * named by src/kafka/evt-ids.ts (`_evt-requeue-<dlq>-<hash>`).
 */
export function requeueGroup(request: RequeueRequest, filterText?: string): string {
  return requeueProgressGroup(request.dlqTopic, selectionHash(request, filterText))
}

/**
 * The progress group to use: {@link requeueGroup}, unless only the name evt used before its
 * `_evt-` prefix (`evt-dlq-requeue-<dlq>-<hash>`) has progress on the DLQ, which then carries on.
 * @throws EvtError connect (3).
 */
async function resolveRequeueGroup(session: KafkaSession, request: RequeueRequest, filterText?: string): Promise<string> {
  const current = requeueGroup(request, filterText)
  if ((await progressOffsets(session, current, request.dlqTopic)).size > 0) return current
  const legacy = legacyRequeueProgressGroup(request.dlqTopic, selectionHash(request, filterText))
  return (await progressOffsets(session, legacy, request.dlqTopic)).size > 0 ? legacy : current
}

function lastHeader(headers: RawRecord['headers'], key: string): Buffer | null | undefined {
  let found: Buffer | null | undefined
  for (const h of headers) if (h.key === key) found = h.value
  return found
}

/** True when a record of `dlqTopic` may go to `topic` without being allowed: the DLQ's name says it came from there. */
export function followsConvention(dlqTopic: string, topic: string): boolean {
  return conventionalSources(dlqTopic).includes(topic)
}

/** Options of {@link requeueDecision}. */
export interface RequeueDecisionOptions {
  /** Do not skip targets outside the DLQ's naming convention (planning, which lists them instead). */
  anyTarget?: boolean
  /** The DLQ's requeue ledger: records it lists are skipped as `already-requeued` (unless `request.again`). */
  ledger?: RequeueLedger
  /** Write a ledger entry with each requeued record (same transaction): the run's progress group and clock. */
  writeLedger?: { progressGroup: string; now?: () => number }
  /** The profile's protectedTopics (names or globs): guarded like the platform topics. */
  protectedTopics?: readonly string[]
}

/**
 * The decision for one DLQ record (pure given the target partition counts and the ledger; `decode`
 * for the filter, e.g. a prepared RegistryDecoder).
 */
export function requeueDecision(r: RawRecord, failure: DlqFailure, request: RequeueRequest, targets: Map<string, number>, pick: (topic: string, count: number, r: RawRecord) => number, decode: (r: RawRecord) => DecodedRecord = decodeRecord, options: RequeueDecisionOptions = {}): MoveDecision {
  if (request.filter && !request.filter(decode(r), failure)) return { skip: 'filtered' }
  if (request.only && groupKey(failure, request.only.by) !== request.only.value) return { skip: 'not-selected' }
  const entry = requeuedEntry(options.ledger, r)
  if (entry && !request.again) return { skip: 'already-requeued' }
  // a record sent again (--again) counts its earlier requeues from the ledger, so the loop guard sees them
  const count = Math.max(Number(lastHeader(r.headers, REQUEUE_COUNT_HEADER)?.toString() ?? '0') || 0, entry?.requeueCount ?? 0)
  if (count >= (request.maxRequeues ?? 3)) return { skip: 'loop-guard' }
  const topic = request.to ?? failure.originalTopic
  if (!topic) return { skip: 'no-original-topic' }
  if (writeRefusal(topic, request.to !== undefined, options.protectedTopics)) return { skip: 'internal-topic' }
  if (!request.to && !options.anyTarget && !followsConvention(request.dlqTopic, topic) && !request.allowTargets?.includes(topic)) return { skip: 'target-not-allowed' }
  const partitions = targets.get(topic)
  if (partitions === undefined) return { skip: 'target-missing' }
  const partition = failure.originalPartition !== undefined && failure.originalPartition >= 0 && failure.originalPartition < partitions && !request.to ? failure.originalPartition : pick(topic, partitions, r)
  const headers: OrderedHeader[] = r.headers.filter((h) => h.key !== REQUEUE_COUNT_HEADER && h.key !== REQUEUED_FROM_HEADER && (request.keepErrorHeaders || !isFailureHeader(h.key)))
  headers.push({ key: REQUEUE_COUNT_HEADER, value: Buffer.from(String(count + 1)) }, { key: REQUEUED_FROM_HEADER, value: Buffer.from(`${r.topic}/${r.partition}/${r.offset}`) })
  const w = options.writeLedger
  const also = w ? [{ topic: `${request.dlqTopic}${REQUEUE_LEDGER_SUFFIX}`, record: ledgerRecord({ dlq: request.dlqTopic, partition: r.partition, offset: Number(r.offset), dlqTimestamp: r.timestamp, requeuedAt: (w.now ?? Date.now)(), topic, toPartition: partition, requeueCount: count + 1, progressGroup: w.progressGroup }) }] : undefined
  return { topic, partition, key: r.key, value: r.value, headers, also }
}

/** Refuses (exit 6) to requeue from a requeue ledger topic (it is not a DLQ), or into the DLQ itself (`--to` = the DLQ: a loop). */
function assertDlq(dlqTopic: string, to?: string): void {
  if (to === dlqTopic) throw refusedError(`--to is the dead-letter topic "${dlqTopic}" itself: the records would only go round`, 'requeue to the topic the service consumes (leave out --to to use each record\'s original topic)')
  if (isRequeueLedgerTopic(dlqTopic)) throw refusedError(`"${dlqTopic}" is evt's requeue ledger of "${dlqTopic.slice(0, -REQUEUE_LEDGER_SUFFIX.length)}", not a dead-letter topic`, `requeue from the DLQ itself: evt dlq requeue ${dlqTopic.slice(0, -REQUEUE_LEDGER_SUFFIX.length)}`)
}

async function topicPartitionCounts(session: KafkaSession): Promise<Map<string, number>> {
  const topics = await (await session.admin()).topicMetadata()
  return new Map(topics.map((t) => [t.name, t.partitions.length]))
}

/** Target partitions of records without an original partition: by key (murmur2), keyless ones round-robin. */
function picker(): (topic: string, count: number, r: RawRecord) => number {
  let rr = 0
  return (_topic, count, r) => {
    if (r.key === null) return rr++ % count
    return partitionForKey(r.key, count)
  }
}

/**
 * Plans a requeue: reads what is left of the selected DLQ range (after earlier runs of the same
 * requeue) and counts records per target topic, failure class and skip reason. Writes nothing.
 * @throws EvtError connect (3), not-found (4).
 */
export async function planRequeue(session: KafkaSession, request: RequeueRequest, filterText?: string): Promise<RequeuePlan> {
  const { connection } = session
  assertDlq(request.dlqTopic, request.to)
  if (request.to) assertWritableTopic(request.to, '--to')
  const progressGroup = await resolveRequeueGroup(session, request, filterText)
  const targets = await topicPartitionCounts(session)
  if (!targets.has(request.dlqTopic)) throw notFoundError(`topic "${request.dlqTopic}" does not exist`, 'list dead-letter topics with: evt dlq list')
  const ledger = await readLedger(session, request.dlqTopic)
  const alreadyRequeued: AlreadyRequeued[] = []
  let alreadyRequeuedCount = 0
  const done = await progressOffsets(session, progressGroup, request.dlqTopic)
  const reader = await session.reader('read_committed')
  const decoder = new RegistryDecoder(connection.registry, { timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const byTarget = new Map<string, number>()
  const byClass = new Map<string, number>()
  const skipped: Record<string, number> = {}
  const missingTargets = new Set<string>()
  const refusedTargets = new Set<string>()
  const range = request.range.to ? request.range : { ...request.range, to: { kind: 'end' as const } }
  const plans = (await reader.plan([request.dlqTopic], range, request.partitions)).map((p) => ({ ...p, start: Math.min(p.end!, Math.max(p.start, done.get(p.partition) ?? p.start)) }))
  const pick = picker()
  for await (const chunk of reader.read(plans.filter((p) => p.start < p.end!), { maxWaitMs: 100 })) {
    if (request.filter) await decoder.prepare(chunk.records)
    for (const r of chunk.records) {
      const failure = parseFailure(r.headers)
      const d = requeueDecision(r, failure, request, targets, pick, (x) => decoder.decodeRecord(x), { anyTarget: true, ledger, protectedTopics: session.connection.protectedTopics })
      if (!('skip' in d) || (d.skip !== 'filtered' && d.skip !== 'not-selected')) {
        const e = requeuedEntry(ledger, r)
        if (e) {
          if (alreadyRequeued.length < ALREADY_REQUEUED_LISTED) alreadyRequeued.push({ partition: e.partition, offset: e.offset, requeuedAt: e.requeuedAt, topic: e.topic, toPartition: e.toPartition })
          alreadyRequeuedCount++
        }
      }
      if ('skip' in d) {
        skipped[d.skip] = (skipped[d.skip] ?? 0) + 1
        if (d.skip === 'target-missing') missingTargets.add(request.to ?? failure.originalTopic!)
        if (d.skip === 'internal-topic') refusedTargets.add(request.to ?? failure.originalTopic!)
        continue
      }
      byTarget.set(d.topic, (byTarget.get(d.topic) ?? 0) + 1)
      const cls = failure.exception ?? failure.reason ?? '(unknown)'
      byClass.set(cls, (byClass.get(cls) ?? 0) + 1)
    }
  }
  return {
    dlqTopic: request.dlqTopic,
    progressGroup,
    partitions: plans.map((p) => ({ partition: p.partition, start: p.start, end: p.end! })),
    targets: [...byTarget].map(([topic, records]) => ({ topic, records })).sort((a, b) => b.records - a.records),
    classes: [...byClass].map(([exception, records]) => ({ exception, records })).sort((a, b) => b.records - a.records),
    skipped,
    missingTargets: [...missingTargets].sort(),
    refusedTargets: [...refusedTargets].sort(),
    unexpectedTargets: request.to ? [] : [...byTarget.keys()].filter((t) => !followsConvention(request.dlqTopic, t)).sort(),
    ledger: { topic: ledger.topic, exists: ledger.exists, entries: ledger.entries.size },
    again: Boolean(request.again),
    alreadyRequeued,
    alreadyRequeuedCount,
  }
}

/**
 * Records held back by the loop guard or the internal-topic guard (a plan's or a run's `skipped`)
 * end the run with a refusal after the rest was sent.
 * @throws EvtError refused (exit 6) naming both counts and what to do; nothing when there are none.
 */
export function refuseHeldBack(skipped: Record<string, number>): void {
  const loops = skipped['loop-guard'] ?? 0
  const internal = skipped['internal-topic'] ?? 0
  if (!loops && !internal) return
  const parts = [loops ? `${loops} already were --max-requeues times (loop guard)` : '', internal ? `${internal} name internal or protected topics in their dead-letter headers (write guard)` : ''].filter(Boolean)
  const hints = [loops ? 'fix what makes them fail, then raise --max-requeues if they should go again' : '', internal ? 'send those to an ordinary topic with --to, or leave them out with --filter' : ''].filter(Boolean)
  throw refusedError(`${loops + internal} records were not requeued: ${parts.join('; ')}`, hints.join('; '))
}

/**
 * Progress is committed past every record a run goes through: a record whose target topic is
 * missing would never be requeued later, so a plan with missing targets is refused instead.
 * @throws EvtError not-found (exit 4) naming the missing topics.
 */
export function refuseMissingTargets(plan: RequeuePlan): void {
  if (plan.missingTargets.length) throw notFoundError(`${plan.skipped['target-missing']} records go to topics that do not exist: ${plan.missingTargets.join(', ')}`, 'create them, send everything elsewhere with --to, or leave those records out with --filter')
}

/**
 * The plan's targets outside the DLQ's naming convention that `allowed` does not list, with the
 * refusal (no terminal) and the question (on one) that name them and the `--allow-target` flags.
 */
export function unallowedTargets(plan: RequeuePlan, allowed: readonly string[]): { topics: string[]; refusal: Error; question: string; flags: string } | undefined {
  const topics = plan.unexpectedTargets.filter((t) => !allowed.includes(t))
  if (!topics.length) return undefined
  const what = `${topics.map((t) => `"${t}"`).join(', ')} ${topics.length === 1 ? 'does' : 'do'} not follow the naming of "${plan.dlqTopic}"`
  const flags = topics.map((t) => `--allow-target ${t}`).join(' ')
  return {
    topics,
    refusal: refusedError(`dead-letter headers send records to topics this DLQ does not come from: ${what}; nothing was written`, `check the plan, then pass ${flags}`),
    question: `Dead-letter headers send records to ${what}. Write to ${topics.length === 1 ? 'it' : 'them'}?`,
    flags,
  }
}

/**
 * Executes a planned requeue exactly once (see the module doc). Resumes from the progress group.
 * Creates the DLQ's requeue ledger topic when it does not exist, waits until no transaction is open
 * on it (another requeue running, or a crashed one's, which the broker aborts within a minute),
 * reads it again (a requeue since the plan counts), and writes an entry per requeued record in the
 * record's transaction.
 * @throws EvtError connect (3: also when the ledger cannot be created), not-found (4), refused (6).
 */
export async function runRequeue(session: KafkaSession, request: RequeueRequest, plan: RequeuePlan, options: { signal?: AbortSignal; onProgress?: (p: MoveProgress) => void; onWarning?: (message: string) => void } = {}): Promise<MoveSummary> {
  const { connection } = session
  assertDlq(request.dlqTopic, request.to)
  if (request.to) assertWritableTopic(request.to, '--to')
  await ensureLedger(session, request.dlqTopic)
  // settle this selection's own transaction a crash may have left open (connecting fences it), then wait for any
  // other open transaction on the ledger, so the read below sees every committed entry
  // (the transaction coordinator may still be loading on a broker that just started: wait for it, within --timeout)
  await whileCoordinatorLoads(async () => (await session.transactionalWriter(plan.progressGroup)).close(), { untilMs: connection.timeoutMs, signal: options.signal })
  await settleLedger(session, request.dlqTopic, { signal: options.signal, onWaiting: options.onWarning })
  const ledger = await readLedger(session, request.dlqTopic, { signal: options.signal, onWarning: options.onWarning })
  const targets = await topicPartitionCounts(session)
  const pick = picker()
  const decoder = new RegistryDecoder(connection.registry, { timeoutMs: Math.min(connection.timeoutMs, 5000) })
  return moveExactlyOnce(session, {
    source: request.dlqTopic,
    partitions: plan.partitions,
    transactionalId: plan.progressGroup,
    progressGroup: plan.progressGroup,
    decide: (r) => requeueDecision(r, parseFailure(r.headers), request, targets, pick, (x) => decoder.decodeRecord(x), { protectedTopics: session.connection.protectedTopics, ledger, writeLedger: { progressGroup: plan.progressGroup } }),
    prepare: request.filter ? (records) => decoder.prepare(records) : undefined,
    rate: request.rate,
    signal: options.signal,
    onProgress: options.onProgress,
    onRetry: (err, attempt) => options.onWarning?.(`a transaction failed (${err.message}); retrying (${attempt})`),
  })
}
