/**
 * Stalled requests: where a request stopped moving although consumers read its records. Pure
 * logic over a built graph and the consumption of each record (no Kafka).
 *
 * A request is STALLED when, at `now`:
 * - one of its records has not been consumed by a group that reads its topic (the group's
 *   committed offset is at or before the record) for longer than `stallAfterMs` after the record's
 *   timestamp: flagged on that record, naming each such group, how long and its lag; or
 * - its last record (latest timestamp, not a dead-letter copy, no children) has been consumed by
 *   every group that reads its topic, and nothing followed for longer than `stallAfterMs`:
 *   flagged on that record, naming the groups. A last record on a topic no group reads is the end
 *   of the flow, not a stall.
 */
import type { AnomalyKind, TraceGraph, TraceNode } from './graph.ts'

/** What stall detection needs of a record's consumption (the trace service's `RecordConsumption`). */
export interface ConsumptionView {
  group: string
  status: 'consumed' | 'pending'
  lag: number
}

/** `45 s`, `6 min 12 s`, `2 h 3 min`, `3 d 4 h` (a duration in ms, rounded down to seconds). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`
}

function describe(n: TraceNode): string {
  return n.record.meta.eventType ? `${n.record.meta.eventType} (${n.id})` : n.id
}

/**
 * Adds `stalled` anomalies to `graph` (its `anomalies` and the flagged nodes' `anomalies`), as the
 * module comment describes. `consumption` is keyed by record id (`topic/partition@offset`);
 * `now` and record timestamps are epoch ms. Returns the anomalies added.
 */
export function markStalls(graph: TraceGraph, consumption: Map<string, ConsumptionView[]>, now: number, stallAfterMs: number): Array<{ kind: AnomalyKind; message: string; records: string[] }> {
  const added: Array<{ kind: AnomalyKind; message: string; records: string[] }> = []
  const flag = (node: TraceNode, message: string) => {
    added.push({ kind: 'stalled', message, records: [node.id] })
    if (!node.anomalies.includes('stalled')) node.anomalies.push('stalled')
  }
  let last: TraceNode | undefined
  for (const node of graph.nodes.values()) {
    const age = now - node.record.timestamp
    const pending = (consumption.get(node.id) ?? []).filter((c) => c.status === 'pending')
    if (pending.length && age > stallAfterMs) {
      flag(node, `${describe(node)} not consumed by ${pending.map((c) => `${c.group} (lag ${c.lag})`).join(', ')} for ${formatAge(age)}`)
    }
    if (!node.deadLetter && (last === undefined || node.record.timestamp >= last.record.timestamp)) last = node
  }
  if (last && last.children.length === 0 && !last.anomalies.includes('stalled')) {
    const groups = consumption.get(last.id) ?? []
    const age = now - last.record.timestamp
    if (groups.length && groups.every((c) => c.status === 'consumed') && age > stallAfterMs) {
      flag(last, `request stalled after ${describe(last)}: consumed by ${groups.map((c) => c.group).join(', ')}, and nothing followed for ${formatAge(age)}`)
    }
  }
  graph.anomalies.push(...added)
  return added
}
