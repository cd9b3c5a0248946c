/**
 * Builders for the record formats the demo shop's services write, byte for byte as the real
 * frameworks write them (see docs MESSAGE-FORMATS.md): the seed envelope, W3C trace context,
 * CloudEvents Kafka binding (binary mode) and Spring Kafka's DeadLetterPublishingRecoverer headers.
 * Pure functions: no Kafka, no clock unless given.
 */
import { randomBytes, randomUUID } from 'node:crypto'

/** The seed envelope (JSON value; the record key is the aggregate id). */
export interface SeedEnvelope {
  event_id: string
  event_type: string
  event_version: number
  occurred_at: string
  aggregate_id: string
  aggregate_type: string
  data: Record<string, unknown>
  metadata: {
    correlation_id: string
    causation_id: string | null
    published_by: string
  }
}

export interface SeedInput {
  eventType: string
  aggregateId: string
  aggregateType: string
  data: Record<string, unknown>
  correlationId: string
  /** Event id of the record that caused this one; null for the first event of a request. */
  causationId: string | null
  publishedBy: string
  eventVersion?: number
  eventId?: string
  occurredAt?: Date
}

/** A seed-envelope event. */
export function seedEnvelope(input: SeedInput): SeedEnvelope {
  return {
    event_id: input.eventId ?? randomUUID(),
    event_type: input.eventType,
    event_version: input.eventVersion ?? 1,
    occurred_at: (input.occurredAt ?? new Date()).toISOString(),
    aggregate_id: input.aggregateId,
    aggregate_type: input.aggregateType,
    data: input.data,
    metadata: { correlation_id: input.correlationId, causation_id: input.causationId, published_by: input.publishedBy },
  }
}

/** Parses a seed envelope from record bytes; undefined when the value is not one. */
export function parseSeedEnvelope(value: Buffer | null): SeedEnvelope | undefined {
  if (!value) return undefined
  try {
    const v = JSON.parse(value.toString('utf8')) as Partial<SeedEnvelope>
    if (typeof v?.event_id === 'string' && typeof v.event_type === 'string' && v.metadata && typeof v.metadata.correlation_id === 'string') return v as SeedEnvelope
  } catch {
    // not JSON: not a seed envelope
  }
  return undefined
}

// --- W3C trace context -------------------------------------------------------------------------

export const newTraceId = (): string => randomBytes(16).toString('hex')
export const newSpanId = (): string => randomBytes(8).toString('hex')

/** `00-<32 hex trace id>-<16 hex span id>-01` (sampled): 55 bytes of UTF-8. */
export function traceparent(traceId: string, spanId: string = newSpanId()): string {
  return `00-${traceId}-${spanId}-01`
}

/** The trace id of a traceparent value, or undefined when it is not one. */
export function traceIdOf(value: string | undefined): string | undefined {
  const m = value && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(value)
  return m ? m[1] : undefined
}

// --- CloudEvents, Kafka protocol binding, binary mode --------------------------------------------

export interface CloudEventInput {
  id?: string
  source: string
  type: string
  subject?: string
  time?: Date
  correlationId: string
  causationId: string
}

/**
 * Binary-mode headers: attributes as `ce_<name>` (UTF-8), the data content type in `content-type`;
 * the record value is the data itself. Order as the CloudEvents SDK for Java writes them.
 */
export function cloudEventHeaders(input: CloudEventInput): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['ce_specversion', '1.0'],
    ['ce_id', input.id ?? randomUUID()],
    ['ce_source', input.source],
    ['ce_type', input.type],
    ['content-type', 'application/json'],
  ]
  if (input.subject !== undefined) headers.push(['ce_subject', input.subject])
  headers.push(['ce_time', (input.time ?? new Date()).toISOString()])
  headers.push(['ce_correlationid', input.correlationId], ['ce_causationid', input.causationId])
  return headers
}

// --- Spring Kafka DeadLetterPublishingRecoverer --------------------------------------------------

/** int32 big-endian, as `ByteBuffer.allocate(4).putInt(n).array()`. */
export function int32BE(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** int64 big-endian, as `ByteBuffer.allocate(8).putLong(n).array()`. */
export function int64BE(n: bigint | number | string): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(BigInt(n))
  return b
}

/** The consumed record being dead-lettered. */
export interface FailedRecord {
  topic: string
  partition: number
  offset: string
  /** epoch ms */
  timestamp: string | number
  timestampType?: 'CreateTime' | 'LogAppendTime'
  /** Its headers, in order. */
  headers: Array<[string, Buffer]>
}

/** A Java exception chain as Spring sees it when the listener threw. */
export interface ListenerFailure {
  /** The group of the listener container (`ListenerExecutionFailedException.getGroupId()`). */
  groupId: string
  /** toGenericString() of the @KafkaListener method. */
  listenerMethod: string
  /** What the listener threw: the "root cause" Spring reports (it unwraps only LEFE layers). */
  causeClass: string
  causeMessage: string | null
  /** Frames of the cause, innermost first, down to the listener method (without the reflection and Spring frames). */
  causeFrames: string[]
}

export const LEFE = 'org.springframework.kafka.listener.ListenerExecutionFailedException'

/**
 * The headers of a DeadLetterPublishingRecoverer record (spring-kafka 3.3, default settings):
 * the original record's headers first, then the exception headers (`exceptionHeadersCreator`
 * runs first), then the original-record headers (`enhanceHeaders`): exactly Spring's order.
 */
export function springDltHeaders(record: FailedRecord, failure: ListenerFailure): Array<[string, Buffer]> {
  const utf8 = (s: string) => Buffer.from(s, 'utf8')
  const lefeMessage = `Listener method '${failure.listenerMethod}' threw exception`
  // DeadLetterRecordManager.buildMessage(exception, rootCause): "<LEFE message>; <cause message>".
  const message = failure.causeMessage === null ? `${lefeMessage}; ` : `${lefeMessage}; ${failure.causeMessage}`
  return [
    ...record.headers,
    ['kafka_dlt-exception-fqcn', utf8(LEFE)],
    ['kafka_dlt-exception-cause-fqcn', utf8(failure.causeClass)],
    ['kafka_dlt-exception-message', utf8(message)],
    ['kafka_dlt-exception-stacktrace', utf8(springStackTrace(lefeMessage, failure))],
    ['kafka_dlt-original-topic', utf8(record.topic)],
    ['kafka_dlt-original-partition', int32BE(record.partition)],
    ['kafka_dlt-original-offset', int64BE(record.offset)],
    ['kafka_dlt-original-timestamp', int64BE(record.timestamp)],
    ['kafka_dlt-original-timestamp-type', utf8(record.timestampType ?? 'CreateTime')],
    ['kafka_dlt-original-consumer-group', utf8(failure.groupId)],
  ]
}

const KMLC = 'org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer'
const ADAPTER = 'org.springframework.kafka.listener.adapter'

/** The container frames below the listener call (spring-kafka 3.3.x line numbers, Java 21). */
const CONTAINER_TAIL = [
  `${KMLC}.invokeOnMessage(KafkaMessageListenerContainer.java:2914)`,
  `${KMLC}.doInvokeRecordListener(KafkaMessageListenerContainer.java:2826)`,
  `${KMLC}.doInvokeWithRecords(KafkaMessageListenerContainer.java:2663)`,
  `${KMLC}.invokeRecordListener(KafkaMessageListenerContainer.java:2552)`,
  `${KMLC}.invokeListener(KafkaMessageListenerContainer.java:2201)`,
  `${KMLC}.pollAndInvoke(KafkaMessageListenerContainer.java:1555)`,
  `${KMLC}.run(KafkaMessageListenerContainer.java:1362)`,
  'java.base/java.util.concurrent.CompletableFuture$AsyncRun.run(CompletableFuture.java:1804)',
  'java.base/java.lang.Thread.run(Thread.java:1583)',
]

/** The adapter frames between the container and the listener method, outermost last. */
const ADAPTER_FRAMES = [
  `${ADAPTER}.MessagingMessageListenerAdapter.invoke(MessagingMessageListenerAdapter.java:421)`,
  `${ADAPTER}.RecordMessagingMessageListenerAdapter.onMessage(RecordMessagingMessageListenerAdapter.java:85)`,
  `${ADAPTER}.RecordMessagingMessageListenerAdapter.onMessage(RecordMessagingMessageListenerAdapter.java:50)`,
  `${KMLC}.doInvokeOnMessage(KafkaMessageListenerContainer.java:2936)`,
]

/**
 * `Throwable.printStackTrace()` of the exception Spring publishes: the LEFE that the container
 * re-created with the group id (`decorateException`), its "Restored Stack Trace" suppressed LEFE
 * (`fixStackTrace`), and the cause with its `... n more` frames in common.
 */
export function springStackTrace(lefeMessage: string, failure: ListenerFailure): string {
  const enclosing = [`${KMLC}.decorateException(KafkaMessageListenerContainer.java:3042)`, `${KMLC}.doInvokeOnMessage(KafkaMessageListenerContainer.java:2950)`, ...CONTAINER_TAIL]
  const restored = [`${ADAPTER}.MessagingMessageListenerAdapter.invokeHandler(MessagingMessageListenerAdapter.java:490)`, ...ADAPTER_FRAMES]
  const cause = [
    ...failure.causeFrames,
    'java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
    'java.base/java.lang.reflect.Method.invoke(Method.java:580)',
    'org.springframework.messaging.handler.invocation.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:169)',
    'org.springframework.messaging.handler.invocation.InvocableHandlerMethod.invoke(InvocableHandlerMethod.java:119)',
    `${ADAPTER}.HandlerAdapter.invoke(HandlerAdapter.java:78)`,
    `${ADAPTER}.MessagingMessageListenerAdapter.invokeHandler(MessagingMessageListenerAdapter.java:475)`,
    ...ADAPTER_FRAMES,
    ...CONTAINER_TAIL,
  ]
  const lines: string[] = [`${LEFE}: ${lefeMessage}`, ...enclosing.map((f) => `\tat ${f}`)]
  lines.push(`\tSuppressed: ${LEFE}: Restored Stack Trace`, ...restored.map((f) => `\t\tat ${f}`))
  // Java prints the cause's frames down to the first one it shares (from the end) with the enclosing trace.
  let common = 0
  while (common < cause.length && common < enclosing.length && cause[cause.length - 1 - common] === enclosing[enclosing.length - 1 - common]) common++
  lines.push(`Caused by: ${failure.causeClass}${failure.causeMessage === null ? '' : `: ${failure.causeMessage}`}`)
  lines.push(...cause.slice(0, cause.length - common).map((f) => `\tat ${f}`))
  if (common > 0) lines.push(`\t... ${common} more`)
  return `${lines.join('\n')}\n`
}

/** The frames of a read timeout in a JDK HttpsURLConnection call (Java 21), innermost first. */
export function socketReadTimeoutFrames(callerFrames: string[]): string[] {
  return [
    'java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)',
    'java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)',
    'java.base/sun.nio.ch.NioSocketImpl.read(NioSocketImpl.java:346)',
    'java.base/sun.nio.ch.NioSocketImpl$1.read(NioSocketImpl.java:796)',
    'java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)',
    'java.base/sun.security.ssl.SSLSocketInputRecord.read(SSLSocketInputRecord.java:489)',
    'java.base/sun.security.ssl.SSLSocketInputRecord.readHeader(SSLSocketInputRecord.java:483)',
    'java.base/sun.security.ssl.SSLSocketInputRecord.bytesInCompletedRecords(SSLSocketInputRecord.java:70)',
    'java.base/sun.security.ssl.SSLSocketImpl.readApplicationRecord(SSLSocketImpl.java:1461)',
    'java.base/sun.security.ssl.SSLSocketImpl$AppInputStream.read(SSLSocketImpl.java:1066)',
    'java.base/java.io.BufferedInputStream.fill(BufferedInputStream.java:291)',
    'java.base/java.io.BufferedInputStream.read1(BufferedInputStream.java:347)',
    'java.base/java.io.BufferedInputStream.implRead(BufferedInputStream.java:420)',
    'java.base/java.io.BufferedInputStream.read(BufferedInputStream.java:399)',
    'java.base/sun.net.www.http.HttpClient.parseHTTPHeader(HttpClient.java:827)',
    'java.base/sun.net.www.http.HttpClient.parseHTTP(HttpClient.java:759)',
    'java.base/sun.net.www.protocol.http.HttpURLConnection.getInputStream0(HttpURLConnection.java:1705)',
    'java.base/sun.net.www.protocol.http.HttpURLConnection.getInputStream(HttpURLConnection.java:1614)',
    'java.base/java.net.HttpURLConnection.getResponseCode(HttpURLConnection.java:531)',
    'java.base/sun.net.www.protocol.https.HttpsURLConnectionImpl.getResponseCode(HttpsURLConnectionImpl.java:307)',
    ...callerFrames,
  ]
}
