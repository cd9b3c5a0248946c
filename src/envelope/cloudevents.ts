/**
 * CloudEvents Kafka protocol binding (CloudEvents 1.0).
 * - Binary mode: attributes in headers `ce_<name>` (`ce_specversion`, `ce_id`, `ce_source`,
 *   `ce_type`, `ce_time`, `ce_subject`, extensions such as `ce_correlationid`,
 *   `ce_causationid`); `content-type` is the data's type; the value is the data.
 * - Structured mode: `content-type: application/cloudevents+json[; charset=…]` and the value is
 *   the event as JSON (`specversion`, `id`, `source`, `type`, `time`, `subject`, `data`,
 *   extensions at the top level). A JSON value with `specversion`, `id`, `source` and `type` is
 *   taken as structured even without the header.
 * `subject` maps to aggregateId (the entity the event is about). `traceparent` / `ce_traceparent`
 * are read by the traceparent extractor.
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { headerText, jsonEpochMs, jsonId, parseRfc3339 } from './values.ts'

export const cloudEventsBinaryExtractor: ExtractorDefinition = {
  name: 'cloudevents-binary',
  build: (ctx) => {
    const specversion = ctx.header('ce_specversion')
    const id = ctx.header('ce_id')
    const type = ctx.header('ce_type')
    const source = ctx.header('ce_source')
    const time = ctx.header('ce_time')
    const subject = ctx.header('ce_subject')
    const correlation = ctx.header('ce_correlationid')
    const causation = ctx.header('ce_causationid')
    return (view) => {
      const h = view.headers
      // A binary-mode event has its required attributes in headers; one of them is enough to say so.
      if (h[specversion] === undefined && h[id] === undefined && h[type] === undefined && h[source] === undefined) return undefined
      const t = headerText(h[time])
      const meta: MetaFields = {
        eventId: headerText(h[id]),
        eventType: headerText(h[type]),
        source: headerText(h[source]),
        occurredAt: t === undefined ? undefined : parseRfc3339(t),
        aggregateId: headerText(h[subject]),
        correlationId: headerText(h[correlation]),
        causationId: headerText(h[causation]),
      }
      return meta
    }
  },
}

export const cloudEventsStructuredExtractor: ExtractorDefinition = {
  name: 'cloudevents-structured',
  build: (ctx) => {
    const contentType = ctx.header('content-type')
    return (view) => {
      const v = view.json()
      if (!v) return undefined
      const ct = headerText(view.headers[contentType])
      const declared = ct !== undefined && ct.toLowerCase().startsWith('application/cloudevents+json')
      if (!declared && !(typeof v.specversion === 'string' && v.id !== undefined && v.source !== undefined && v.type !== undefined)) return undefined
      const meta: MetaFields = {
        eventId: jsonId(v.id),
        eventType: jsonId(v.type),
        source: jsonId(v.source),
        occurredAt: jsonEpochMs(v.time),
        aggregateId: jsonId(v.subject),
        correlationId: jsonId(v.correlationid),
        causationId: jsonId(v.causationid),
      }
      return meta
    }
  },
}
