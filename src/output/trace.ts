/**
 * Renderers for `evt trace`: a causal tree, a timeline (waterfall), the JSON contract, and
 * Mermaid / Graphviz diagrams.
 */
import chalk from 'chalk'
import type { TraceResult } from '../services/trace.ts'
import { copyText, type TraceNode } from '../trace/graph.ts'
import { singleLine } from '../util/terminal-text.ts'
import { formatBytes } from './records.ts'

const ANOMALY_LABEL: Record<string, string> = {
  duplicate: 'DUPLICATE',
  'dead-lettered': 'DEAD-LETTERED',
  'key-mismatch': 'KEY≠AGGREGATE',
  'split-partitions': 'SPLIT PARTITIONS',
  'time-backwards': 'TIME BACKWARDS',
  'command-on-events-topic': 'COMMAND ON EVENTS TOPIC',
  orphan: 'ORPHAN',
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** One line saying what was searched (always printed, also when nothing was found). */
export function searchSummary(r: TraceResult, elapsedMs?: number): string {
  const until = r.window.until === null ? 'now' : time(r.window.until)
  const topics = r.topics.length <= 6 ? r.topics.join(', ') : `${r.topics.slice(0, 6).join(', ')} and ${r.topics.length - 6} more`
  return `searched ${r.topics.length} topic${r.topics.length === 1 ? '' : 's'} (${topics}) from ${time(r.window.since)} to ${until} UTC: ${r.scanned} records, ${formatBytes(r.bytes)}${elapsedMs === undefined ? '' : ` in ${elapsedMs} ms`}; found ${r.records.length}`
}

function nodeLine(n: TraceNode, r: TraceResult): string {
  const m = n.record.meta
  const type = m.eventType ? oneLine(m.eventType) : chalk.dim('(no type)')
  const service = m.source ? chalk.blue(oneLine(m.source)) : chalk.dim('?')
  const delay = n.delayMs === undefined ? '' : chalk.yellow(` +${n.delayMs} ms`)
  const flags = n.anomalies.map((a) => chalk.red.bold(` [${ANOMALY_LABEL[a] ?? a}]`)).join('')
  const why = n.deadLetter?.reason ?? n.deadLetter?.exception
  const dead = n.deadLetter ? chalk.red(` ✗ dead letter${why ? `: ${oneLine(why)}` : ''}`) : ''
  const missing = n.missingParent ? chalk.dim(` (parent ${oneLine(n.missingParent)} not found)`) : ''
  const copy = copyLabel(n)
  const groups = (r.consumption.get(n.id) ?? []).map((c) => (c.status === 'consumed' ? chalk.green(`✓${oneLine(c.group)}`) : chalk.yellow(`…${oneLine(c.group)} (lag ${c.lag})`))).join(' ')
  return `${chalk.bold(type)}  ${service}  ${chalk.cyan(n.id)}  ${chalk.dim(time(n.record.timestamp))}${delay}${flags}${dead}${copy}${missing}${groups ? `  ${groups}` : ''}`
}

/** ` ↻ requeued from payments.events-dlt/0@3` / ` ⧉ replayed copy of orders.events/0@12` (and when the source is not in the window). */
function copyLabel(n: TraceNode): string {
  if (!n.copyOf) return ''
  return chalk.magenta(` ${n.copyOf.kind === 'requeue' ? '↻' : '⧉'} ${oneLine(copyText(n.copyOf))}${n.copyOf.found ? '' : ' (not in the searched window)'}`)
}

/** The causal tree: roots first (by time), children indented under the record that caused them. */
export function renderTree(r: TraceResult, elapsedMs?: number): string {
  const lines = [chalk.bold(`trace ${oneLine(r.id)}`), chalk.dim(searchSummary(r, elapsedMs))]
  if (r.records.length === 0) return `${lines.join('\n')}\nno records`
  const walk = (id: string, prefix: string, last: boolean, depth: number) => {
    const n = r.graph.nodes.get(id)!
    lines.push(`${prefix}${depth === 0 ? '' : last ? '└─ ' : '├─ '}${nodeLine(n, r)}`)
    const children = [...n.children].sort((a, b) => r.graph.nodes.get(a)!.record.timestamp - r.graph.nodes.get(b)!.record.timestamp)
    children.forEach((c, i) => walk(c, depth === 0 ? prefix : `${prefix}${last ? '   ' : '│  '}`, i === children.length - 1, depth + 1))
  }
  lines.push('')
  for (const root of r.graph.roots) walk(root, '', true, 0)
  if (r.graph.anomalies.length) {
    lines.push('', chalk.bold('anomalies'))
    for (const a of r.graph.anomalies) lines.push(`  ${chalk.red(ANOMALY_LABEL[a.kind] ?? a.kind)}  ${oneLine(a.message)}`)
  }
  return lines.join('\n')
}

/** A waterfall: records by time, a bar from the request's start, the service and the gap to the previous record. */
export function renderTimeline(r: TraceResult, width = 40): string {
  const lines = [chalk.bold(`trace ${oneLine(r.id)} — timeline`), chalk.dim(searchSummary(r))]
  if (r.records.length === 0) return `${lines.join('\n')}\nno records`
  const nodes = [...r.graph.nodes.values()].sort((a, b) => a.record.timestamp - b.record.timestamp)
  const t0 = nodes[0].record.timestamp
  const span = Math.max(1, nodes[nodes.length - 1].record.timestamp - t0)
  let prev = t0
  lines.push('')
  for (const n of nodes) {
    const at = n.record.timestamp - t0
    const pos = Math.round((at / span) * (width - 1))
    const bar = `${' '.repeat(pos)}${n.deadLetter ? chalk.red('✗') : '●'}`.padEnd(width)
    const gap = n.record.timestamp - prev
    prev = n.record.timestamp
    const flags = n.anomalies.map((a) => chalk.red.bold(` [${ANOMALY_LABEL[a] ?? a}]`)).join('')
    lines.push(`${String(at).padStart(7)} ms │${bar}│ ${chalk.bold(oneLine(n.record.meta.eventType ?? '(no type)'))} ${chalk.blue(oneLine(n.record.meta.source ?? '?'))} ${chalk.dim(n.record.topic)}${gap ? chalk.yellow(` (${gap} ms after the previous record)`) : ''}${flags}${copyLabel(n)}`)
  }
  lines.push(`${' '.repeat(11)}total ${span} ms from first to last record`)
  if (r.graph.anomalies.length) {
    lines.push('', chalk.bold('anomalies'))
    for (const a of r.graph.anomalies) lines.push(`  ${chalk.red(ANOMALY_LABEL[a.kind] ?? a.kind)}  ${oneLine(a.message)}`)
  }
  return lines.join('\n')
}

/**
 * The `--json` contract of trace:
 * `{ id, window: {since, until}, topics, scanned, bytes, records: [{id, topic, partition, offset,
 * timestamp, key, eventId, eventType, correlationId, causationId, aggregateId, aggregateType,
 * occurredAt, source, conventions, parent, missingParent, delayMs, deadLetter, copyOf, anomalies,
 * consumption: [{group, status, committedOffset, lag}] }], edges: [{from, to}],
 * anomalies: [{kind, message, records}] }`. Times are epoch ms; ids are `topic/partition@offset`.
 * `copyOf` is null, or `{kind: "replay"|"requeue", source, found, replayId?, requeueCount?}` for a
 * copy written by evt (`parent` is `source` when `found`).
 */
export function traceJson(r: TraceResult): Record<string, unknown> {
  const nodes = [...r.graph.nodes.values()].sort((a, b) => a.record.timestamp - b.record.timestamp)
  return {
    id: r.id,
    window: r.window,
    topics: r.topics,
    scanned: r.scanned,
    bytes: r.bytes,
    records: nodes.map((n) => ({
      id: n.id,
      topic: n.record.topic,
      partition: n.record.partition,
      offset: Number(n.record.offset),
      timestamp: n.record.timestamp,
      key: n.record.key,
      eventId: n.record.meta.eventId ?? null,
      eventType: n.record.meta.eventType ?? null,
      correlationId: n.record.meta.correlationId ?? null,
      causationId: n.record.meta.causationId ?? null,
      aggregateId: n.record.meta.aggregateId ?? null,
      aggregateType: n.record.meta.aggregateType ?? null,
      occurredAt: n.record.meta.occurredAt ?? null,
      source: n.record.meta.source ?? null,
      conventions: n.record.meta.conventions,
      parent: n.parentId ?? null,
      missingParent: n.missingParent ?? null,
      delayMs: n.delayMs ?? null,
      deadLetter: n.deadLetter ?? null,
      copyOf: n.copyOf ?? null,
      anomalies: n.anomalies,
      consumption: r.consumption.get(n.id) ?? [],
    })),
    edges: nodes.filter((n) => n.parentId).map((n) => ({ from: n.parentId, to: n.id })),
    anomalies: r.graph.anomalies,
  }
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_')
}

/** Text from records (or typed by the user) on one line, control characters escaped (src/util/terminal-text.ts). */
const oneLine = singleLine

/** A Graphviz double-quoted string body. */
function dotString(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"')
}

/** A Mermaid sequence diagram between services (one arrow per causal edge). */
export function renderMermaid(r: TraceResult): string {
  const lines = ['sequenceDiagram', `  title trace ${oneLine(r.id).replace(/[;#]/g, ' ')}`]
  const nodes = [...r.graph.nodes.values()].sort((a, b) => a.record.timestamp - b.record.timestamp)
  for (const n of nodes) {
    const to = safe(n.record.meta.source ?? n.record.topic)
    const parent = n.parentId ? r.graph.nodes.get(n.parentId) : undefined
    const from = parent ? safe(parent.record.meta.source ?? parent.record.topic) : to
    const label = `${n.record.meta.eventType ?? '?'} (${n.record.topic})${n.delayMs !== undefined ? ` +${n.delayMs}ms` : ''}${n.copyOf ? ` ${n.copyOf.kind === 'replay' ? 'replayed copy' : 'requeued'}` : ''}${n.anomalies.length ? ` ⚠ ${n.anomalies.join(',')}` : ''}`
    lines.push(`  ${from}->>${n.deadLetter ? safe(n.record.topic) : to}: ${oneLine(label).replace(/[;#]/g, ' ')}`)
  }
  return lines.join('\n')
}

/** A Graphviz digraph: one node per record, edges from cause to effect. */
export function renderDot(r: TraceResult): string {
  const lines = [`digraph "trace ${dotString(r.id)}" {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];']
  for (const n of r.graph.nodes.values()) {
    const label = [n.record.meta.eventType ?? '?', n.record.meta.source ?? '', n.id].map(dotString).join('\\n')
    const style = `${n.deadLetter || n.anomalies.length ? ', color=red' : ''}${n.copyOf ? ', style=dashed' : ''}`
    lines.push(`  "${dotString(n.id)}" [label="${label}"${style}];`)
  }
  for (const n of r.graph.nodes.values()) if (n.parentId) lines.push(`  "${dotString(n.parentId)}" -> "${dotString(n.id)}" [label="${n.delayMs ?? ''} ms"];`)
  lines.push('}')
  return lines.join('\n')
}
