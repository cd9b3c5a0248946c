/**
 * NServiceBus headers: `NServiceBus.MessageId`, `.CorrelationId`, `.ConversationId`,
 * `.RelatedTo` (the message that caused this one: our causationId), `.EnclosedMessageTypes`,
 * `.OriginatingEndpoint` (our source), `.TimeSent` (`yyyy-MM-dd HH:mm:ss:ffffff Z`, UTC).
 *
 * Mapping: ConversationId spans the whole flow, so it is our correlationId; NServiceBus's
 * `CorrelationId` (request/reply correlation) is the fallback. eventType is the first type of
 * `EnclosedMessageTypes` without its assembly qualification
 * (`Sales.OrderPlaced, Sales, Version=1.0.0.0, …;…` → `Sales.OrderPlaced`).
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { headerText, parseRfc3339 } from './values.ts'

export const nServiceBusExtractor: ExtractorDefinition = {
  name: 'nservicebus',
  build: (ctx) => {
    const slots = {
      messageId: ctx.header('NServiceBus.MessageId'),
      correlationId: ctx.header('NServiceBus.CorrelationId'),
      conversationId: ctx.header('NServiceBus.ConversationId'),
      relatedTo: ctx.header('NServiceBus.RelatedTo'),
      types: ctx.header('NServiceBus.EnclosedMessageTypes'),
      endpoint: ctx.header('NServiceBus.OriginatingEndpoint'),
      timeSent: ctx.header('NServiceBus.TimeSent'),
    }
    const all = Object.values(slots)
    return (view) => {
      const h = view.headers
      if (all.every((s) => h[s] === undefined)) return undefined
      const types = headerText(h[slots.types])
      const sent = headerText(h[slots.timeSent])
      const meta: MetaFields = {
        eventId: headerText(h[slots.messageId]),
        eventType: types === undefined ? undefined : firstType(types),
        correlationId: headerText(h[slots.conversationId]) ?? headerText(h[slots.correlationId]),
        causationId: headerText(h[slots.relatedTo]),
        source: headerText(h[slots.endpoint]),
        occurredAt: sent === undefined ? undefined : parseTimeSent(sent),
      }
      return meta
    }
  },
}

function firstType(list: string): string | undefined {
  const first = list.split(';')[0].split(',')[0].trim()
  return first === '' ? undefined : first
}

const TIME_SENT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}):(\d{1,7}) Z$/

/** NServiceBus's wire date format (`DateTimeOffsetHelper`), UTC; RFC 3339 accepted too. */
export function parseTimeSent(text: string): number | undefined {
  const m = TIME_SENT.exec(text)
  if (!m) return parseRfc3339(text)
  return parseRfc3339(`${m[1]}T${m[2]}.${m[3]}Z`)
}
