/**
 * Renderers for `evt trace`: a causal tree, a timeline (waterfall), the JSON contract, and
 * Mermaid / Graphviz diagrams.
 */
import chalk from 'chalk'
import { randomBytes } from 'node:crypto'
import type { TraceIndexUse, TraceResult } from '../services/trace.ts'
import { causalOrder, copyText, type TraceNode, type TraceRecord } from '../trace/graph.ts'
import { NO_TIMESTAMP, recordTimeText } from '../time.ts'
import { singleLine } from '../util/terminal-text.ts'
import { encodeForJson, formatBytes } from './records.ts'

const ANOMALY_LABEL: Record<string, string> = {
  duplicate: 'DUPLICATE',
  'dead-lettered': 'DEAD-LETTERED',
  'key-mismatch': 'KEY≠AGGREGATE',
  'split-partitions': 'SPLIT PARTITIONS',
  'time-backwards': 'TIME BACKWARDS',
  'command-on-events-topic': 'COMMAND ON EVENTS TOPIC',
  orphan: 'ORPHAN',
  'clock-skew': 'CLOCK SKEW',
  stalled: 'STALLED',
}

/** Anomalies the node line already says in words (the signed delay's "clock skew?"), not repeated as a label. */
const SAID_INLINE = new Set(['clock-skew'])

/**
 * What a record is, on one line: its event type (from an envelope or the type fallback), else
 * the first ~60 characters of its value (`TraceRecord.summary`), else `(no type)`.
 */
export function recordLabel(record: TraceRecord): string {
  return oneLine(record.meta.eventType ?? record.summary ?? '(no type)')
}

/**
 * A hop's delay, signed: `+33 ms`, or `−250 ms` (U+2212) when the child is stamped before its
 * parent; `note` adds ` (clock skew?)` to a negative one.
 */
export function formatDelay(ms: number, note = true): string {
  return ms < 0 ? `\u2212${-ms} ms${note ? ' (clock skew?)' : ''}` : `+${ms} ms`
}

/** `2026-11-29 14:00:00.123`, or "no timestamp" for Kafka's −1 (src/time.ts). */
function time(ms: number): string {
  const text = recordTimeText(ms)
  return text === NO_TIMESTAMP ? text : text.replace('T', ' ').replace('Z', '')
}

/** One line saying what was searched (always printed, also when nothing was found). */
export function searchSummary(r: TraceResult, elapsedMs?: number): string {
  const until = r.window.until === null ? 'now' : time(r.window.until)
  const topics = r.topics.length <= 6 ? r.topics.join(', ') : `${r.topics.slice(0, 6).join(', ')} and ${r.topics.length - 6} more`
  const line = `searched ${r.topics.length} topic${r.topics.length === 1 ? '' : 's'} (${topics}) from ${time(r.window.since)} to ${until} UTC: ${r.scanned} records, ${formatBytes(r.bytes)}${elapsedMs === undefined ? '' : ` in ${elapsedMs} ms`}; found ${r.records.length}`
  return r.index ? `${line}\n${indexSummary(r.index)}` : line
}

/** Which part of a trace came from the index and which from the scan (and where it fell back to scanning). */
export function indexSummary(u: TraceIndexUse): string {
  const parts = [`index ${u.store}: ${u.fetched} of ${u.pointers} pointed records fetched in ${u.lookupMs} ms on ${u.indexedPartitions} partition${u.indexedPartitions === 1 ? '' : 's'}, then ${u.scannedAfterIndex} records scanned past its reach`]
  if (u.fallback.length) {
    const names = u.fallback.slice(0, 6).map((f) => `${f.topic}/${f.partition}`).join(', ')
    const more = u.fallback.length > 6 ? ` and ${u.fallback.length - 6} more` : ''
    const why = u.fallback.every((f) => f.reason === 'not-indexed') ? 'not indexed' : 'not indexed from the window start'
    parts.push(`scanned in full (${why}): ${names}${more}`)
  }
  return parts.join('; ')
}

function nodeLine(n: TraceNode, r: TraceResult): string {
  const m = n.record.meta
  const type = m.eventType ? chalk.bold(oneLine(m.eventType)) : chalk.dim(recordLabel(n.record))
  const service = m.source ? chalk.blue(oneLine(m.source)) : chalk.dim('?')
  const delay = n.delayMs === undefined ? '' : n.delayMs < 0 ? chalk.red(` ${formatDelay(n.delayMs)}`) : chalk.yellow(` ${formatDelay(n.delayMs)}`)
  const flags = n.anomalies.filter((a) => !SAID_INLINE.has(a)).map((a) => chalk.red.bold(` [${ANOMALY_LABEL[a] ?? a}]`)).join('')
  const why = n.deadLetter?.reason ?? n.deadLetter?.exception
  const dead = n.deadLetter ? chalk.red(` ✗ dead letter${why ? `: ${oneLine(why)}` : ''}`) : ''
  const missing = n.missingParent ? chalk.dim(` (parent ${oneLine(n.missingParent)} not found)`) : ''
  const copy = copyLabel(n)
  const groups = (r.consumption.get(n.id) ?? []).map((c) => (c.status === 'consumed' ? chalk.green(`✓${oneLine(c.group)}`) : chalk.yellow(`…${oneLine(c.group)} (lag ${c.lag})`))).join(' ')
  return `${type}  ${service}  ${chalk.cyan(n.id)}  ${chalk.dim(time(n.record.timestamp))}${delay}${flags}${dead}${copy}${missing}${groups ? `  ${groups}` : ''}`
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

/**
 * A waterfall: records in causal order (by time, but a record never above the record that caused
 * it: src/trace/graph.ts `causalOrder`), a bar from the request's start, the service and the gap
 * to the previous line. A record stamped before its parent is drawn at its parent's time and
 * says by how much its clock is behind.
 */
export function renderTimeline(r: TraceResult, width = 40): string {
  const lines = [chalk.bold(`trace ${oneLine(r.id)} — timeline`), chalk.dim(searchSummary(r))]
  if (r.records.length === 0) return `${lines.join('\n')}\nno records`
  const order = causalOrder(r.graph)
  const t0 = order[0].at
  const span = Math.max(1, order[order.length - 1].at - t0)
  let prev = t0
  lines.push('')
  for (const { node: n, at, skewMs } of order) {
    const offset = at - t0
    const pos = Math.round((offset / span) * (width - 1))
    const bar = `${' '.repeat(pos)}${n.deadLetter ? chalk.red('✗') : '●'}`.padEnd(width)
    const gap = at - prev
    prev = at
    const flags = n.anomalies.filter((a) => !SAID_INLINE.has(a)).map((a) => chalk.red.bold(` [${ANOMALY_LABEL[a] ?? a}]`)).join('')
    const skew = n.delayMs !== undefined && n.delayMs < 0 ? chalk.red(` (stamped ${-n.delayMs} ms before its parent ${n.parentId}: clock skew?)`) : skewMs > 0 ? chalk.red(` (stamped ${skewMs} ms before a record that caused it: clock skew?)`) : ''
    const label = n.record.meta.eventType ? chalk.bold(recordLabel(n.record)) : chalk.dim(recordLabel(n.record))
    lines.push(`${String(offset).padStart(7)} ms │${bar}│ ${label} ${chalk.blue(oneLine(n.record.meta.source ?? '?'))} ${chalk.dim(n.record.topic)}${gap ? chalk.yellow(` (${gap} ms after the previous record)`) : ''}${skew}${flags}${copyLabel(n)}`)
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
 * timestamp, key, keyEncoding, value, valueEncoding, eventId, eventType, typeFrom, summary,
 * correlationId, causationId, aggregateId, aggregateType, occurredAt, source, conventions,
 * traceId, spanId, parentSpanId, parent, missingParent, delayMs, deadLetter, copyOf, anomalies,
 * consumption: [{group, status, committedOffset, lag}] }], edges: [{from, to}],
 * anomalies: [{kind, message, records}] }`. Times are epoch ms; ids are `topic/partition@offset`.
 * `key`/`value` and their encodings are those of `tail -f json` (src/output/records.ts
 * `encodeForJson`); here `key`/`value` are JS values (use {@link traceJsonText} for the line, which
 * embeds JSON values verbatim). `delayMs` is negative for a record stamped before its parent.
 * `copyOf` is null, or `{kind: "replay"|"requeue", source, found, replayId?, requeueCount?}` for a
 * copy written by evt (`parent` is `source` when `found`).
 */
export function traceJson(r: TraceResult): Record<string, unknown> {
  return traceJsonWith(r, (side) => JSON.parse(side.json) as unknown)
}

/**
 * The `--json` document of a trace as one line of JSON: {@link traceJson}, with each JSON key or
 * value embedded byte for byte (big integers intact), as `tail -f json` does.
 */
export function traceJsonText(r: TraceResult): string {
  const nonce = randomBytes(8).toString('hex')
  const raw: string[] = []
  const text = JSON.stringify(
    traceJsonWith(r, (side) => {
      raw.push(side.json)
      return `\u0000${nonce}:${raw.length - 1}`
    }),
  )
  const marker = new RegExp(`"\\\\u0000${nonce}:(\\d+)"`, 'g')
  return text.replace(marker, (_, i: string) => raw[Number(i)])
}

function jsonSide(decoded: TraceRecord['valueDecoded'], bytes: Buffer | null | undefined, fallback: string | null): { json: string; encoding: string } {
  if (decoded && bytes !== undefined) return encodeForJson(decoded, bytes)
  return fallback === null ? { json: 'null', encoding: 'null' } : { json: JSON.stringify(fallback), encoding: 'text' }
}

function traceJsonWith(r: TraceResult, embed: (side: { json: string; encoding: string }) => unknown): Record<string, unknown> {
  const nodes = [...r.graph.nodes.values()].sort((a, b) => a.record.timestamp - b.record.timestamp)
  return {
    id: r.id,
    window: r.window,
    topics: r.topics,
    scanned: r.scanned,
    bytes: r.bytes,
    ...(r.index ? { index: { store: r.index.store, pointers: r.index.pointers, fetched: r.index.fetched, indexedPartitions: r.index.indexedPartitions, scannedAfterIndex: r.index.scannedAfterIndex, lookupMs: r.index.lookupMs, fallback: r.index.fallback } } : {}),
    records: nodes.map((n) => ({
      id: n.id,
      topic: n.record.topic,
      partition: n.record.partition,
      offset: Number(n.record.offset),
      timestamp: n.record.timestamp,
      ...sides(n.record, embed),
      eventId: n.record.meta.eventId ?? null,
      eventType: n.record.meta.eventType ?? null,
      typeFrom: n.record.typeFrom ?? null,
      summary: n.record.summary ?? null,
      correlationId: n.record.meta.correlationId ?? null,
      causationId: n.record.meta.causationId ?? null,
      aggregateId: n.record.meta.aggregateId ?? null,
      aggregateType: n.record.meta.aggregateType ?? null,
      occurredAt: n.record.meta.occurredAt ?? null,
      source: n.record.meta.source ?? null,
      conventions: n.record.meta.conventions,
      traceId: n.record.meta.traceId ?? null,
      spanId: n.record.meta.spanId ?? null,
      parentSpanId: n.record.meta.parentSpanId ?? null,
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

function sides(record: TraceRecord, embed: (side: { json: string; encoding: string }) => unknown): Record<string, unknown> {
  const key = jsonSide(record.keyDecoded, record.keyBytes, record.key)
  const value = jsonSide(record.valueDecoded, record.value, null)
  const out: Record<string, unknown> = { key: embed(key), keyEncoding: key.encoding }
  if (record.valueDecoded === undefined) return out
  return { ...out, value: embed(value), valueEncoding: value.encoding }
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

/**
 * A Mermaid sequence diagram between services (one arrow per causal edge, in causal order). A
 * dead-letter hop is drawn from the consumer that failed (the DLQ headers' group or connector,
 * `deadLetter.failedIn`) to the dead-letter topic; without such a header, from the original's producer.
 */
export function renderMermaid(r: TraceResult): string {
  const lines = ['sequenceDiagram', `  title trace ${oneLine(r.id).replace(/[;#]/g, ' ')}`]
  for (const { node: n } of causalOrder(r.graph)) {
    const to = safe(n.record.meta.source ?? n.record.topic)
    const parent = n.parentId ? r.graph.nodes.get(n.parentId) : undefined
    let from = parent ? safe(parent.record.meta.source ?? parent.record.topic) : to
    if (n.deadLetter?.failedIn) from = safe(n.deadLetter.failedIn)
    const failed = n.deadLetter?.failedIn ? ` failed in ${n.deadLetter.failedIn}` : ''
    const label = `${n.record.meta.eventType ?? n.record.summary ?? '?'} (${n.record.topic})${failed}${n.delayMs !== undefined ? ` ${formatDelay(n.delayMs).replace(' ms', 'ms')}` : ''}${n.copyOf ? ` ${n.copyOf.kind === 'replay' ? 'replayed copy' : 'requeued'}` : ''}${n.anomalies.length ? ` ⚠ ${n.anomalies.join(',')}` : ''}`
    lines.push(`  ${from}->>${n.deadLetter ? safe(n.record.topic) : to}: ${oneLine(label).replace(/[;#]/g, ' ')}`)
  }
  return lines.join('\n')
}

/** A Graphviz digraph: one node per record, edges from cause to effect. */
export function renderDot(r: TraceResult): string {
  const lines = [`digraph "trace ${dotString(r.id)}" {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];']
  for (const n of r.graph.nodes.values()) {
    // a dead-letter copy is attributed to the consumer that failed, not to the original's producer
    const who = n.deadLetter?.failedIn ? `failed in ${n.deadLetter.failedIn}` : (n.record.meta.source ?? '')
    const label = [n.record.meta.eventType ?? n.record.summary ?? '?', who, n.id].map(dotString).join('\\n')
    const style = `${n.deadLetter || n.anomalies.length ? ', color=red' : ''}${n.copyOf ? ', style=dashed' : ''}`
    lines.push(`  "${dotString(n.id)}" [label="${label}"${style}];`)
  }
  for (const n of r.graph.nodes.values()) {
    if (!n.parentId) continue
    const delay = n.delayMs === undefined ? '' : formatDelay(n.delayMs)
    const label = n.deadLetter ? `dead-lettered by ${n.deadLetter.failedIn ?? 'a consumer'}${delay ? ` ${delay}` : ''}` : delay
    lines.push(`  "${dotString(n.parentId)}" -> "${dotString(n.id)}" [label="${dotString(label)}"${n.deadLetter ? ', color=red, style=dashed' : ''}];`)
  }
  lines.push('}')
  return lines.join('\n')
}

/**
 * A trace result in one of trace's formats: json ({@link traceJsonText}), timeline, mermaid, dot,
 * or the tree (default; `elapsedMs`: how long the search took, shown under it).
 */
export function renderTrace(r: TraceResult, format: string, elapsedMs: number): string {
  switch (format) {
    case 'json':
      return traceJsonText(r)
    case 'timeline':
      return renderTimeline(r)
    case 'mermaid':
      return renderMermaid(r)
    case 'dot':
      return renderDot(r)
    default:
      return renderTree(r, elapsedMs)
  }
}

/**
 * What `trace --follow` prints on stderr (plain, without the live view) for an update: the tree
 * once the search is live, then one `+ …` line per record not printed before. `printed` holds the
 * record ids already shown (updated here). Nothing for the json format (it prints the result at the end).
 */
export function followUpdateLines(r: TraceResult, format: string, printed: Set<string>): string[] {
  if (format === 'json') return []
  if (printed.size === 0 && r.live) {
    for (const id of r.graph.nodes.keys()) printed.add(id)
    return [`${renderTree(r)}\n${chalk.dim('following new records… (Ctrl-C to stop)')}`]
  }
  const out: string[] = []
  for (const [id, n] of r.graph.nodes) {
    if (printed.has(id)) continue
    printed.add(id)
    out.push(`+ ${recordLabel(n.record)}  ${n.record.meta.source ?? '?'}  ${id}${n.parentId ? `  ← ${n.parentId}` : ''}${n.delayMs !== undefined ? ` ${formatDelay(n.delayMs)}` : ''}`)
  }
  return out
}

/** `trace --expect` without --follow, once the search is live: what was found and what it waits for (dimmed). */
export function waitingLine(r: TraceResult, missing: string[], expected: string[], waitMs: number): string {
  return chalk.dim(`found ${r.records.length} records; waiting up to ${Math.round(waitMs / 1000)} s for: ${missing.join(', ') || expected.join(', ')}`)
}
