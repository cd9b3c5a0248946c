/**
 * Debezium outbox event router (`io.debezium.transforms.outbox.EventRouter`): the topic is
 * `outbox.event.<aggregatetype>` (default `route.topic.replacement`), the key is the
 * `aggregateid` column, header `id` is the event id, the value is the `payload` column; other
 * columns go to headers by `table.fields.additional.placement` (commonly `type:header:eventType`,
 * `aggregatetype:header`).
 *
 * With JsonConverter and a text payload the value is a JSON string containing JSON: the record
 * view decodes both layers (and Connect's `{schema, payload}` wrapper), so the seed and json
 * extractors read the inner object. Recognised by the topic prefix, or by an `id` header together
 * with an `aggregatetype` header or a double-encoded value (topics are often renamed).
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { decodedId, headerText } from './values.ts'

const TOPIC_PREFIX = 'outbox.event.'

export const debeziumOutboxExtractor: ExtractorDefinition = {
  name: 'debezium-outbox',
  build: (ctx) => {
    const id = ctx.header('id')
    const aggregateTypeSlots = ['aggregatetype', 'aggregate_type', 'aggregateType'].map(ctx.header)
    const eventTypeSlots = ['eventType', 'type'].map(ctx.header)
    return (view) => {
      const h = view.headers
      const { record } = view
      const byTopic = record.topic.startsWith(TOPIC_PREFIX) && record.topic.length > TOPIC_PREFIX.length
      const aggregateTypeHeader = first(h, aggregateTypeSlots)
      if (!byTopic && !(h[id] !== undefined && (aggregateTypeHeader !== undefined || view.doubleEncoded()))) return undefined
      const meta: MetaFields = {
        eventId: unquote(headerText(h[id])),
        aggregateId: decodedId(record.keyDecoded, record.key),
        aggregateType: aggregateTypeHeader ?? (byTopic ? record.topic.slice(TOPIC_PREFIX.length) : undefined),
        eventType: first(h, eventTypeSlots),
      }
      return meta
    }
  },
}

function first(h: ReadonlyArray<Buffer | null | undefined>, slots: number[]): string | undefined {
  for (const s of slots) {
    const t = unquote(headerText(h[s]))
    if (t !== undefined) return t
  }
  return undefined
}

/** A header written by JsonConverter as a header converter is a quoted JSON string. */
function unquote(text: string | undefined): string | undefined {
  if (text === undefined || text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') return text
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
  } catch {
    return text
  }
}
