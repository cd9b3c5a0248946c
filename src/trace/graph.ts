/**
 * The causal graph of one request: records linked by causation id (or trace-context parent
 * span), plus the anomalies that matter when a request went wrong. Pure logic, no Kafka.
 *
 * Copies written by evt (replay `--to-topic`, `dlq requeue`: provenance headers, see
 * src/replay/provenance.ts) hang under the record they were copied from and are never counted
 * as duplicates of it.
 */
import { looksLikeCommand, type EventMeta } from '../envelope/index.ts'
import { hasDlqHeaders, isDlqTopic } from '../dlq/detect.ts'
import { parseFailure } from '../dlq/failure.ts'
import type { Decoded, RecordHeader } from '../record.ts'
import { parseProvenance } from '../replay/provenance.ts'

/** One record found by a trace, with what was extracted from it. */
export interface TraceRecord {
  topic: string
  partition: number
  offset: string
  /** Record timestamp, epoch ms. */
  timestamp: number
  key: string | null
  headers: RecordHeader[]
  meta: EventMeta
  /** Short preview of the value (first 200 characters of its text, or a note for binary). */
  preview: string
  /** One line saying what the record is when no event type was found: its value's first ~60 characters (src/envelope/event-type.ts). */
  summary?: string
  /** Where `meta.eventType` came from when no envelope named it: `header __TypeId__`, `value.type` (the type fallback). */
  typeFrom?: string
  /** The raw key and value and what the codec layer made of them (for the `--json` contract's `key`/`value`). */
  keyBytes?: Buffer | null
  keyDecoded?: Decoded
  value?: Buffer | null
  valueDecoded?: Decoded
  /** Found while following (after the initial scan): written after every record of the initial scan. */
  live?: boolean
}

/** Kinds of anomaly flagged on records (the `--json` contract's `anomalies[].kind`). */
export type AnomalyKind = 'duplicate' | 'dead-lettered' | 'key-mismatch' | 'split-partitions' | 'time-backwards' | 'command-on-events-topic' | 'orphan' | 'clock-skew' | 'stalled'

/** An anomaly and the records it concerns (ids are `topic/partition@offset`). */
export interface Anomaly {
  kind: AnomalyKind
  message: string
  records: string[]
}

/** A node of the causal tree. */
export interface TraceNode {
  id: string
  record: TraceRecord
  /** The node this one was caused by, if found in the window. */
  parentId?: string
  /** Missing parent: the causation id (or parent span) named by the record but not found. */
  missingParent?: string
  /** Delay from the parent's record timestamp, ms; negative when the child is stamped before its parent (clock skew). */
  delayMs?: number
  /**
   * A copy written by evt: `replay` (a `replay --to-topic` copy) or `requeue` (requeued from a
   * DLQ), with its source record's id (`topic/partition@offset`), whether that record is in the
   * graph, and the replay id or requeue count. Not set on records in dead-letter topics.
   */
  copyOf?: CopyOf
  /**
   * Set for a copy of a record in a dead-letter topic: what its headers say (src/dlq/failure.ts). `failedIn` is the
   * consumer that failed: the DLQ headers' consumer group (Spring `kafka_dlt-original-consumer-group`), else the
   * Kafka Connect connector name.
   */
  deadLetter?: { exception?: string; message?: string; cause?: string; originalTopic?: string; reason?: string; failedIn?: string }
  children: string[]
  anomalies: AnomalyKind[]
}

/** Where a copy written by evt came from (the `--json` contract's `copyOf`). */
export interface CopyOf {
  kind: 'replay' | 'requeue'
  /** The source record's id, `topic/partition@offset`. */
  source: string
  /** The source record is in the graph (then it is the copy's parent). */
  found: boolean
  replayId?: string
  requeueCount?: number
}

/** `replayed copy of orders.events/0@12`, `requeued from payments.events-dlt/0@3`. */
export function copyText(c: CopyOf): string {
  return c.kind === 'replay' ? `replayed copy of ${c.source}` : `requeued from ${c.source}`
}

/** The whole graph: nodes by id, roots in time order, anomalies. */
export interface TraceGraph {
  nodes: Map<string, TraceNode>
  roots: string[]
  anomalies: Anomaly[]
}

function deadLetterOf(headers: RecordHeader[]): NonNullable<TraceNode['deadLetter']> {
  const f = parseFailure(headers)
  const out: NonNullable<TraceNode['deadLetter']> = {}
  for (const k of ['exception', 'message', 'cause', 'originalTopic', 'reason'] as const) if (f[k] !== undefined) out[k] = f[k]
  const failedIn = f.consumerGroup ?? f.connector
  if (failedIn !== undefined) out.failedIn = failedIn
  return out
}

/**
 * The id a record is known by in the graph: its event id, else its W3C / B3 span id (for estates
 * whose only propagation is trace context, the span the producer wrote is the record's identity).
 */
export function graphEventId(meta: EventMeta): string | undefined {
  return meta.eventId ?? meta.spanId
}

function sameValue(a: Buffer | null | undefined, b: Buffer | null | undefined): boolean {
  return a === b || (a != null && b != null && a.equals(b))
}

/** `topic/partition@offset`, the id of a record in a trace. */
export function recordId(r: { topic: string; partition: number; offset: string }): string {
  return `${r.topic}/${r.partition}@${r.offset}`
}

/**
 * Builds the causal graph. Parents are found by causation id → event id, else by parent span
 * → span id (originals preferred over copies). A dead-letter copy (DLQ topic or DLQ headers, same
 * event id as the original) hangs under its original and marks it dead-lettered instead of
 * counting as a duplicate. A copy written by evt (provenance headers, outside DLQ topics) hangs
 * under its source record when that is in the graph, else under its original (same event id), else
 * where its causation says; it is never a duplicate, and the per-record and per-aggregate checks
 * (key, command, partitions, time order) are left to its original.
 */
export function buildGraph(records: TraceRecord[]): TraceGraph {
  const sorted = [...records].sort((a, b) => a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(a.offset) - Number(b.offset))
  const nodes = new Map<string, TraceNode>()
  const byEventId = new Map<string, string[]>()
  const bySpanId = new Map<string, string>()
  const anomalies: Anomaly[] = []
  const flag = (kind: AnomalyKind, message: string, ids: string[]) => {
    anomalies.push({ kind, message, records: ids })
    for (const id of ids) {
      const n = nodes.get(id)
      if (n && !n.anomalies.includes(kind)) n.anomalies.push(kind)
    }
  }

  for (const record of sorted) {
    const id = recordId(record)
    const dlqTopic = isDlqTopic(record.topic)
    const provenance = dlqTopic ? undefined : parseProvenance(record.headers)
    const dead = !provenance && (dlqTopic || hasDlqHeaders(record.headers))
    nodes.set(id, {
      id,
      record,
      children: [],
      anomalies: [],
      deadLetter: dead ? deadLetterOf(record.headers) : undefined,
      copyOf: provenance ? { kind: provenance.kind, source: recordId(provenance), found: false, ...(provenance.replayId !== undefined ? { replayId: provenance.replayId } : {}), ...(provenance.requeueCount !== undefined ? { requeueCount: provenance.requeueCount } : {}) } : undefined,
    })
    const eventId = graphEventId(record.meta)
    if (eventId) {
      if (!byEventId.has(eventId)) byEventId.set(eventId, [])
      byEventId.get(eventId)!.push(id)
    }
    if (record.meta.spanId && !dead && !provenance && !bySpanId.has(record.meta.spanId)) bySpanId.set(record.meta.spanId, id)
  }
  // copies stand in for spans whose original is not in the graph
  for (const node of nodes.values()) if (node.copyOf && node.record.meta.spanId && !bySpanId.has(node.record.meta.spanId)) bySpanId.set(node.record.meta.spanId, node.id)
  /** The first record with this event id that is neither a dead letter nor `except`, originals before copies. */
  const original = (eventId: string, except?: string) => {
    const ids = (byEventId.get(eventId) ?? []).filter((other) => other !== except && !nodes.get(other)!.deadLetter)
    return ids.find((other) => !nodes.get(other)!.copyOf) ?? ids[0]
  }

  // Parents.
  for (const node of nodes.values()) {
    const meta = node.record.meta
    let parent: string | undefined
    const ownId = graphEventId(meta)
    if (node.copyOf) {
      if (nodes.has(node.copyOf.source) && node.copyOf.source !== node.id) {
        parent = node.copyOf.source
        node.copyOf.found = true
      } else if (ownId) {
        const o = original(ownId, node.id)
        if (o && !nodes.get(o)!.copyOf) parent = o
      }
    }
    if (!parent && node.deadLetter && ownId) parent = original(ownId, node.id)
    if (!parent && meta.causationId && meta.causationId !== ownId) {
      parent = original(meta.causationId)
      if (!parent) node.missingParent = meta.causationId
    }
    if (!parent && !node.missingParent && meta.parentSpanId) {
      parent = bySpanId.get(meta.parentSpanId)
      if (!parent) node.missingParent = meta.parentSpanId
    }
    if (parent && parent !== node.id) {
      node.parentId = parent
      node.missingParent = undefined
      const p = nodes.get(parent)!
      p.children.push(node.id)
      node.delayMs = node.record.timestamp - p.record.timestamp
    }
  }
  const roots = [...nodes.values()].filter((n) => !n.parentId).map((n) => n.id)

  // Anomalies.
  for (const [eventId, ids] of byEventId) {
    let live = ids.filter((id) => !nodes.get(id)!.deadLetter && !nodes.get(id)!.copyOf)
    // a span id alone (no event id): a redelivery has the same value too; a forwarded trace header on another record does not
    const first = live.length > 1 ? nodes.get(live[0])!.record : undefined
    if (first && first.meta.eventId === undefined && first.value !== undefined) live = live.filter((id) => sameValue(nodes.get(id)!.record.value, first.value))
    if (live.length > 1) flag('duplicate', `event ${eventId} was published ${live.length} times (at-least-once redelivery?)`, live)
  }
  for (const node of nodes.values()) {
    if (!node.deadLetter) continue
    const original = node.parentId ? nodes.get(node.parentId) : undefined
    const why = node.deadLetter.reason ?? node.deadLetter.exception ?? ''
    flag('dead-lettered', `${original ? `${original.id} ` : ''}went to dead-letter topic ${node.record.topic}${why ? ` (${why})` : ''}`, original ? [original.id, node.id] : [node.id])
  }
  for (const node of nodes.values()) {
    if (node.delayMs !== undefined && node.delayMs < 0 && node.parentId && !node.deadLetter) {
      flag('clock-skew', `${node.id} is stamped ${-node.delayMs} ms before its parent ${node.parentId} that caused it: the producers' clocks differ (clock skew?)`, [node.id])
    }
    if (node.missingParent) flag('orphan', `${node.id} names parent ${node.missingParent}, which is not in the searched window`, [node.id])
    if (node.copyOf) continue
    const { meta } = node.record
    if (!node.deadLetter && meta.aggregateId && node.record.key !== null && node.record.key !== meta.aggregateId) {
      flag('key-mismatch', `${node.id} has key "${node.record.key}" but aggregate_id "${meta.aggregateId}": its events may land on other partitions`, [node.id])
    }
    if (meta.eventType && /event/i.test(node.record.topic) && looksLikeCommand(meta.eventType)) {
      flag('command-on-events-topic', `${node.id} has type ${meta.eventType}, an imperative (a command) on events topic ${node.record.topic}`, [node.id])
    }
  }
  // Per aggregate and topic: partitions, and occurred_at order along offsets.
  const byAggregate = new Map<string, TraceNode[]>()
  for (const node of nodes.values()) {
    const agg = node.record.meta.aggregateId
    if (!agg || node.deadLetter || node.copyOf) continue
    const k = `${node.record.topic}\u0000${agg}`
    if (!byAggregate.has(k)) byAggregate.set(k, [])
    byAggregate.get(k)!.push(node)
  }
  for (const [k, list] of byAggregate) {
    const [topic, agg] = k.split('\u0000')
    const partitions = new Set(list.map((n) => n.record.partition))
    if (partitions.size > 1) flag('split-partitions', `aggregate ${agg} has events on partitions ${[...partitions].sort().join(', ')} of ${topic}: their order is lost`, list.map((n) => n.id))
    const byPartition = new Map<number, TraceNode[]>()
    for (const n of list) {
      if (!byPartition.has(n.record.partition)) byPartition.set(n.record.partition, [])
      byPartition.get(n.record.partition)!.push(n)
    }
    for (const ps of byPartition.values()) {
      ps.sort((a, b) => Number(a.record.offset) - Number(b.record.offset))
      for (let i = 1; i < ps.length; i++) {
        const prev = ps[i - 1].record.meta.occurredAt
        const cur = ps[i].record.meta.occurredAt
        if (prev !== undefined && cur !== undefined && cur < prev) flag('time-backwards', `occurred_at goes back ${prev - cur} ms from ${ps[i - 1].id} to ${ps[i].id} (aggregate ${agg})`, [ps[i - 1].id, ps[i].id])
      }
    }
  }
  return { nodes, roots, anomalies }
}

/**
 * The nodes in causal order for a timeline: by time, except that a record never comes before the
 * record that caused it. Each node's `at` is its own timestamp raised to its parent's `at` when
 * its clock is behind (`skewMs` > 0 then: how far behind, ms); ties keep parents first.
 */
export function causalOrder(graph: TraceGraph): Array<{ node: TraceNode; at: number; skewMs: number }> {
  const at = new Map<string, number>()
  const depth = new Map<string, number>()
  const visit = (id: string, parentAt: number, d: number) => {
    const node = graph.nodes.get(id)!
    if (at.has(id)) return
    at.set(id, Math.max(node.record.timestamp, parentAt))
    depth.set(id, d)
    for (const c of node.children) visit(c, at.get(id)!, d + 1)
  }
  for (const root of graph.roots) visit(root, -Infinity, 0)
  // nodes unreachable from a root (a parent cycle) keep their own time
  for (const [id, node] of graph.nodes) if (!at.has(id)) visit(id, node.record.timestamp, 0)
  const out = [...graph.nodes.values()].map((node) => ({ node, at: at.get(node.id)!, skewMs: at.get(node.id)! - node.record.timestamp }))
  const seq = new Map([...graph.nodes.keys()].map((id, i) => [id, i]))
  return out.sort((a, b) => a.at - b.at || depth.get(a.node.id)! - depth.get(b.node.id)! || seq.get(a.node.id)! - seq.get(b.node.id)!)
}
