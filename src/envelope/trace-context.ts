/**
 * Trace context propagated in headers by tracing instrumentation.
 * - W3C (OpenTelemetry): `traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`; read
 *   from `traceparent`, else the CloudEvents extension `ce_traceparent`, else a structured
 *   CloudEvent's `traceparent` attribute. It names this record's span only (no parent span).
 * - B3 (Zipkin / Brave): the single `b3: {traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`
 *   header (preferred, as Brave does) or `X-B3-TraceId` / `X-B3-SpanId` / `X-B3-ParentSpanId`.
 * Both give the trace id as a correlation fallback: the trace is the root of the whole flow.
 * Ids are lowercased; all-zero ids are invalid and ignored.
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { headerText } from './values.ts'

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZEROS = /^0+$/

/** Parses a W3C traceparent; undefined when malformed (or version ff, or all-zero ids). */
export function parseTraceparent(text: string): { traceId: string; spanId: string } | undefined {
  const m = TRACEPARENT.exec(text.trim().toLowerCase())
  if (!m) return undefined
  const [, version, traceId, spanId] = m
  // Version 00 is exactly 55 characters; later versions may append fields.
  if (version === 'ff' || (version === '00' && m[5] !== undefined)) return undefined
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined
  return { traceId, spanId }
}

export const traceparentExtractor: ExtractorDefinition = {
  name: 'traceparent',
  build: (ctx) => {
    const traceparent = ctx.header('traceparent')
    const ceTraceparent = ctx.header('ce_traceparent')
    return (view) => {
      let text = headerText(view.headers[traceparent]) ?? headerText(view.headers[ceTraceparent])
      if (text === undefined) {
        const v = view.json()
        if (v && typeof v.specversion === 'string' && typeof v.traceparent === 'string') text = v.traceparent
      }
      if (text === undefined) return undefined
      const tp = parseTraceparent(text)
      if (!tp) return undefined
      const meta: MetaFields = { traceId: tp.traceId, spanId: tp.spanId, correlationId: tp.traceId }
      return meta
    }
  },
}

const B3_TRACE = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/
const B3_SPAN = /^[0-9a-f]{16}$/

function b3Id(text: string | undefined, pattern: RegExp): string | undefined {
  if (text === undefined) return undefined
  const id = text.toLowerCase()
  return pattern.test(id) && !ZEROS.test(id) ? id : undefined
}

/** Parses the single `b3` header; undefined for a sampling-only value (`0`, `1`, `d`) or a malformed one. */
export function parseB3(text: string): { traceId: string; spanId: string; parentSpanId?: string } | undefined {
  const parts = text.trim().split('-')
  if (parts.length < 2 || parts.length > 4) return undefined
  const traceId = b3Id(parts[0], B3_TRACE)
  const spanId = b3Id(parts[1], B3_SPAN)
  if (!traceId || !spanId) return undefined
  const parentSpanId = parts.length === 4 ? b3Id(parts[3], B3_SPAN) : undefined
  if (parts.length === 4 && !parentSpanId) return undefined
  return parentSpanId ? { traceId, spanId, parentSpanId } : { traceId, spanId }
}

export const b3Extractor: ExtractorDefinition = {
  name: 'b3',
  build: (ctx) => {
    const single = ctx.header('b3')
    const traceIdH = ctx.header('x-b3-traceid')
    const spanIdH = ctx.header('x-b3-spanid')
    const parentH = ctx.header('x-b3-parentspanid')
    return (view) => {
      const h = view.headers
      const b3 = headerText(h[single])
      const parsed = b3 === undefined ? undefined : parseB3(b3)
      if (parsed) return { ...parsed, correlationId: parsed.traceId }
      const traceId = b3Id(headerText(h[traceIdH]), B3_TRACE)
      const spanId = b3Id(headerText(h[spanIdH]), B3_SPAN)
      if (!traceId || !spanId) return undefined
      const meta: MetaFields = { traceId, spanId, parentSpanId: b3Id(headerText(h[parentH]), B3_SPAN), correlationId: traceId }
      return meta
    }
  },
}
