/**
 * Axon Framework's Kafka extension (`DefaultKafkaMessageConverter`): headers `axon-message-id`,
 * `axon-message-type` (payload class), `axon-message-aggregate-id`, `-aggregate-type`,
 * `axon-message-timestamp` (8-byte big-endian epoch ms), metadata as `axon-metadata-<key>`.
 *
 * Careful with names: Axon's `correlationId` metadata is the id of the PARENT message (our
 * causationId) and its `traceId` metadata is the id of the ROOT message (our correlationId).
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { headerEpochMs, headerText } from './values.ts'

export const axonExtractor: ExtractorDefinition = {
  name: 'axon',
  build: (ctx) => {
    const id = ctx.header('axon-message-id')
    const type = ctx.header('axon-message-type')
    const aggregateId = ctx.header('axon-message-aggregate-id')
    const aggregateType = ctx.header('axon-message-aggregate-type')
    const timestamp = ctx.header('axon-message-timestamp')
    const traceId = ctx.header('axon-metadata-traceId')
    const parentId = ctx.header('axon-metadata-correlationId')
    return (view) => {
      const h = view.headers
      if (h[id] === undefined && h[type] === undefined && h[aggregateId] === undefined && h[traceId] === undefined && h[parentId] === undefined) return undefined
      const meta: MetaFields = {
        eventId: headerText(h[id]),
        eventType: headerText(h[type]),
        aggregateId: headerText(h[aggregateId]),
        aggregateType: headerText(h[aggregateType]),
        occurredAt: headerEpochMs(h[timestamp]),
        correlationId: headerText(h[traceId]),
        causationId: headerText(h[parentId]),
      }
      return meta
    }
  },
}
