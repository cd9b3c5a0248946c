/**
 * The seed envelope (this project's demo and many hand-rolled producers): a JSON value
 * `{event_id, event_type, event_version, occurred_at, aggregate_id, aggregate_type, data,
 * metadata: {correlation_id, causation_id, published_by}}`; the key is the aggregate id.
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { isObject, jsonEpochMs, jsonId } from './values.ts'

export const seedExtractor: ExtractorDefinition = {
  name: 'seed',
  build: () => (view) => {
    const v = view.json()
    // Recognised by its two mandatory fields; everything else is optional.
    if (!v) return undefined
    const eventId = jsonId(v.event_id)
    const eventType = jsonId(v.event_type)
    if (eventId === undefined || eventType === undefined) return undefined
    const meta: MetaFields = { eventId, eventType }
    const md = isObject(v.metadata) ? v.metadata : undefined
    if (md) {
      meta.correlationId = jsonId(md.correlation_id)
      meta.causationId = jsonId(md.causation_id)
      meta.source = jsonId(md.published_by)
    }
    meta.aggregateId = jsonId(v.aggregate_id)
    meta.aggregateType = jsonId(v.aggregate_type)
    meta.occurredAt = jsonEpochMs(v.occurred_at)
    return meta
  },
}
