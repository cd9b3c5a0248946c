/**
 * MassTransit (Kafka rider / transport headers): `MessageId`, `CorrelationId`, `ConversationId`,
 * `RequestId`, `MT-InitiatorId`, `MT-MessageType`, `MT-Source-Address` (GUIDs as text).
 *
 * Mapping: ConversationId is what MassTransit propagates to every message of a flow, so it is
 * our correlationId; the business `CorrelationId` is the fallback when there is no
 * ConversationId. `MT-InitiatorId` (the message that started this one) is our causationId.
 * eventType is the first URN of `MT-MessageType` (`urn:message:Ns:OrderSubmitted;…`).
 *
 * Recognised only with a MassTransit-specific header (ConversationId or MT-*): a lone
 * `CorrelationId` is left to the plain-headers extractor.
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { headerText } from './values.ts'

export const massTransitExtractor: ExtractorDefinition = {
  name: 'masstransit',
  build: (ctx) => {
    const messageId = ctx.header('MessageId')
    const correlationId = ctx.header('CorrelationId')
    const conversationId = ctx.header('ConversationId')
    const initiatorId = ctx.header('MT-InitiatorId')
    const messageType = ctx.header('MT-MessageType')
    const sourceAddress = ctx.header('MT-Source-Address')
    return (view) => {
      const h = view.headers
      if (h[conversationId] === undefined && h[initiatorId] === undefined && h[messageType] === undefined && h[sourceAddress] === undefined) return undefined
      const type = headerText(h[messageType])
      const meta: MetaFields = {
        eventId: headerText(h[messageId]),
        eventType: type === undefined ? undefined : firstOf(type),
        correlationId: headerText(h[conversationId]) ?? headerText(h[correlationId]),
        causationId: headerText(h[initiatorId]),
        source: headerText(h[sourceAddress]),
      }
      return meta
    }
  },
}

function firstOf(list: string): string | undefined {
  const first = list.split(';')[0].trim()
  return first === '' ? undefined : first
}
