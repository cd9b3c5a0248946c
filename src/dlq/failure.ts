/**
 * Dead-letter headers → one parsed failure, whichever framework wrote them (see
 * MESSAGE-FORMATS.md, "Dead-letter headers"). Header names are matched case-insensitively;
 * where a header occurs more than once (Spring appends original-* on each dead-lettering) the
 * LAST one wins, also when it is null-valued. Malformed bytes never throw: the field stays
 * undefined and `warnings` says why.
 *
 * Framework choice: the family of the last dead-letter header in the record (the most recent
 * dead-lettering), except that Spring DLT beats Spring retry-topic headers (a record dead-lettered
 * after its retries carries both) and `generic` (only `x-original-*`) loses to any framework.
 * Only the chosen framework's headers fill the fields (plus `retry_topic-*` for Spring DLT).
 *
 * | framework             | headers                                                              | numbers                          |
 * |-----------------------|----------------------------------------------------------------------|----------------------------------|
 * | spring-dlt            | kafka_dlt-original-*, kafka_dlt-exception-*, kafka_dlt-key-exception-* | int32 / int64 BE                 |
 * | spring-retry          | kafka_original-*, kafka_exception-*, kafka_key-exception-*, retry_topic-* | int32 / int64 BE; retry_topic-attempts 4 bytes (old: 1); retry_topic-*-timestamp BigInteger.toByteArray() |
 * | spring-cloud-stream   | x-original-*, x-exception-*                                          | int32 / int64 BE                 |
 * | kafka-connect         | __connect.errors.*                                                   | decimal text                     |
 * | smallrye              | dead-letter-*, delayed-retry-count                                   | decimal text                     |
 * | masstransit           | MT-Fault-*, MT-Reason, MT-Redelivery-Count                           | decimal text                     |
 * | generic               | x-original-topic (+ x-original-partition/-offset, binary or text)    | binary or decimal text           |
 */
import type { RecordHeader } from '../record.ts'

/** Which framework wrote the dead-letter headers. */
export type DlqFramework = 'spring-dlt' | 'spring-retry' | 'spring-cloud-stream' | 'kafka-connect' | 'smallrye' | 'masstransit' | 'generic' | 'unknown'

/** One parsed failure (part of the `dlq inspect --json` contract: fields absent when unknown). */
export interface DlqFailure {
  framework: DlqFramework
  originalTopic?: string
  originalPartition?: number
  /** A number, or a decimal string when beyond 2^53 (int64). */
  originalOffset?: number | string
  /** Epoch ms. */
  originalTimestamp?: number
  /** `CreateTime` / `LogAppendTime`. */
  originalTimestampType?: string
  consumerGroup?: string
  /** Exception class (fully qualified as written). */
  exception?: string
  message?: string
  /** Cause class: from a header, else the root `Caused by:` of the stack trace. */
  cause?: string
  /** Cause message: from a header, else from the stack trace's `Caused by:` line of the cause. */
  causeMessage?: string
  stacktrace?: string
  /** Kafka Connect stage (VALUE_CONVERTER, TASK_PUT, …); MassTransit MT-Reason (fault, …). */
  stage?: string
  /** Kafka Connect: the class of the failing stage (e.g. the converter). */
  stageClass?: string
  connector?: string
  task?: string
  /** The framework's attempt/retry counter as written: Spring retry_topic-attempts, SmallRye delayed-retry-count, MassTransit MT-Fault-RetryCount. */
  attempts?: number
  /** MassTransit MT-Redelivery-Count. */
  redeliveries?: number
  /** Spring retry topics: when the next attempt is due (retry_topic-backoff-timestamp), epoch ms. */
  backoffTimestamp?: number
  /** Short triage label: simple class name (the cause's when the exception only wraps it) + the message's first words, long numbers and ids masked. */
  reason?: string
  /** Spring: the key (not the value) failed to deserialize (kafka_dlt-key-exception-*). */
  keyFailure?: boolean
  /** Headers that were present but malformed (wrong length, not a number), one line each. */
  warnings?: string[]
}

type Family = Exclude<DlqFramework, 'unknown'>

/** The framework family a header name (lower case) belongs to, if it is a dead-letter header. */
function familyOf(k: string): Family | undefined {
  if (k.startsWith('kafka_dlt-')) return 'spring-dlt'
  if (k.startsWith('kafka_original-') || k.startsWith('kafka_exception-') || k.startsWith('kafka_key-exception-') || k.startsWith('retry_topic-')) return 'spring-retry'
  if (k.startsWith('x-exception-')) return 'spring-cloud-stream'
  if (k.startsWith('x-original-')) return 'generic'
  if (k.startsWith('__connect.errors.')) return 'kafka-connect'
  if (k.startsWith('dead-letter-')) return 'smallrye'
  if (k.startsWith('mt-fault-') || k === 'mt-reason') return 'masstransit'
  return undefined
}

/** True for headers that {@link parseFailure} reads (so a renderer can show them parsed instead of raw). */
export function isFailureHeader(key: string): boolean {
  const k = key.toLowerCase()
  return familyOf(k) !== undefined || k === 'delayed-retry-count' || k === 'mt-redelivery-count'
}

/** Picks the framework: see the module doc. */
export function detectFramework(headers: RecordHeader[]): DlqFramework {
  const last = new Map<Family, number>()
  headers.forEach((h, i) => {
    const f = familyOf(h.key.toLowerCase())
    if (f) last.set(f, i)
  })
  if (last.size === 0) return 'unknown'
  if (last.has('spring-dlt')) last.delete('spring-retry')
  if (last.size > 1) last.delete('generic')
  let best: Family = 'generic'
  let at = -1
  for (const [f, i] of last) if (i > at) [best, at] = [f, i]
  return best
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)

/** Reads header values of one record: last occurrence wins, malformed values noted. */
class HeaderReader {
  readonly warnings: string[] = []
  private readonly last = new Map<string, { key: string; value: Buffer | null }>()

  constructor(headers: RecordHeader[]) {
    for (const h of headers) this.last.set(h.key.toLowerCase(), h)
  }

  has(name: string): boolean {
    return this.last.has(name)
  }

  /** The last value's bytes; undefined when absent or null-valued. */
  bytes(name: string): Buffer | undefined {
    return this.last.get(name)?.value ?? undefined
  }

  text(name: string): string | undefined {
    return this.bytes(name)?.toString('utf8')
  }

  private warn(name: string, problem: string): undefined {
    this.warnings.push(`${this.last.get(name)?.key ?? name}: ${problem}`)
    return undefined
  }

  /** 4-byte big-endian int32. */
  int32(name: string): number | undefined {
    const b = this.bytes(name)
    if (!b) return undefined
    if (b.length !== 4) return this.warn(name, `expected 4 bytes (int32 BE), got ${b.length}`)
    return b.readInt32BE(0)
  }

  /** 8-byte big-endian int64: a number when safe, else a decimal string. */
  int64(name: string): number | string | undefined {
    const b = this.bytes(name)
    if (!b) return undefined
    if (b.length !== 8) return this.warn(name, `expected 8 bytes (int64 BE), got ${b.length}`)
    return safe(b.readBigInt64BE(0))
  }

  /** 8-byte big-endian int64 epoch ms. */
  timestamp(name: string): number | undefined {
    const v = this.int64(name)
    return typeof v === 'string' ? this.warn(name, `timestamp ${v} is out of range`) : v
  }

  /** Java `BigInteger.toByteArray()`: minimal two's-complement big-endian, any length ≥ 1. */
  bigInteger(name: string): number | undefined {
    const b = this.bytes(name)
    if (!b) return undefined
    if (b.length === 0) return this.warn(name, 'expected a BigInteger (1 or more bytes), got 0')
    let v = BigInt(`0x${b.toString('hex')}`)
    if (b[0] & 0x80) v -= 1n << BigInt(b.length * 8)
    const n = safe(v)
    return typeof n === 'string' ? this.warn(name, `timestamp ${n} is out of range`) : n
  }

  /** Spring `retry_topic-attempts`: 4-byte BE int, or 1 byte (older Spring Kafka). */
  attempts(name: string): number | undefined {
    const b = this.bytes(name)
    if (!b) return undefined
    if (b.length === 4) return b.readInt32BE(0)
    if (b.length === 1) return b[0]
    return this.warn(name, `expected 4 bytes (int32 BE) or 1 byte, got ${b.length}`)
  }

  /** Decimal text ("3", "42"): a number when safe, else the decimal string. */
  decimal(name: string): number | string | undefined {
    const t = this.text(name)
    if (t === undefined) return undefined
    if (!/^-?\d+$/.test(t.trim())) return this.warn(name, `expected a decimal number, got ${JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t)}`)
    return safe(BigInt(t.trim()))
  }

  /** Decimal text that must fit a number (partition, counts). */
  smallDecimal(name: string): number | undefined {
    const v = this.decimal(name)
    return typeof v === 'string' ? this.warn(name, `${v} is out of range`) : v
  }

  /** Generic headers: decimal text, or big-endian binary of `size` bytes. */
  textOrBinary(name: string, size: 4 | 8): number | string | undefined {
    const b = this.bytes(name)
    if (!b) return undefined
    if (b.length > 0 && b.every((c) => (c >= 0x30 && c <= 0x39) || c === 0x2d)) return this.decimal(name)
    if (b.length === size) return size === 4 ? b.readInt32BE(0) : safe(b.readBigInt64BE(0))
    return this.warn(name, `expected decimal text or ${size} bytes (int${size * 8} BE), got ${b.length} bytes`)
  }
}

function safe(v: bigint): number | string {
  return v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v.toString()
}

/** Spring Kafka: DLT (`kafka_dlt-`) and retry-topic (`kafka_original-`/`kafka_exception-`) headers share one layout. */
function parseSpring(r: HeaderReader, out: DlqFailure, original: string, exception: string, keyException: string): void {
  out.originalTopic = r.text(`${original}topic`)
  out.originalPartition = r.int32(`${original}partition`)
  out.originalOffset = r.int64(`${original}offset`)
  out.originalTimestamp = r.timestamp(`${original}timestamp`)
  out.originalTimestampType = r.text(`${original}timestamp-type`)
  out.consumerGroup = r.text(`${original}consumer-group`)
  const value = r.has(`${exception}fqcn`) || r.has(`${exception}message`) || r.has(`${exception}stacktrace`)
  const key = r.has(`${keyException}fqcn`)
  if (key) out.keyFailure = true
  const prefix = !value && key ? keyException : exception
  out.exception = r.text(`${prefix}fqcn`)
  out.cause = r.text(`${prefix}cause-fqcn`)
  out.message = r.text(`${prefix}message`)
  out.stacktrace = r.text(`${prefix}stacktrace`)
  out.attempts = r.attempts('retry_topic-attempts')
  out.backoffTimestamp = r.bigInteger('retry_topic-backoff-timestamp')
  const first = r.bigInteger('retry_topic-original-timestamp')
  if (out.originalTimestamp === undefined) out.originalTimestamp = first
}

/** Exceptions that only wrap the real one: the triage label uses their cause. */
const WRAPPERS = /(?:^|[.$])(ListenerExecutionFailedException|ExecutionException|CompletionException|UndeclaredThrowableException|InvocationTargetException|MessageHandlingException|AggregateException|TargetInvocationException)$/

/** The class name after the last dot: `java.net.SocketTimeoutException` → `SocketTimeoutException`. */
export function simpleClassName(fqcn: string): string {
  const name = fqcn.trim().split(/[\s,]/)[0]
  return name.slice(name.lastIndexOf('.') + 1)
}

/** A message's first words for a triage label: first line, long numbers and ids masked, at most 6 words / 48 characters. */
export function messageGist(message: string): string {
  const line = message.trim().split(/\r?\n/)[0]
  const masked = line
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{16,}\b/gi, '<id>')
    .replace(/\d{4,}/g, '<n>')
  const words = masked.split(/\s+/).filter(Boolean)
  let gist = ''
  for (const w of words.slice(0, 6)) {
    const next = gist ? `${gist} ${w}` : w
    if (next.length > 48) break
    gist = next
  }
  if (!gist && words.length) gist = words[0].slice(0, 48)
  return gist.length < masked.trim().length ? `${gist.replace(/[\s:;,.]+$/, '')}…` : gist
}

/** `Caused by:` (Java) and ` ---> ` (.NET) lines of a stack trace, in order: class and message. */
export function stackCauses(stacktrace: string): Array<{ cause: string; message?: string }> {
  const out: Array<{ cause: string; message?: string }> = []
  for (const line of stacktrace.split(/\r?\n/)) {
    const m = /^\s*(?:Caused by:|--->)\s+([\w$.]+)(?::\s?(.*))?$/.exec(line)
    if (m) out.push({ cause: m[1], message: m[2]?.trim() || undefined })
  }
  return out
}

/** The most telling message of a failure: the cause's when the exception only wraps it, else the message (or the cause's). */
export function failureMessage(f: DlqFailure): string | undefined {
  if (f.causeMessage !== undefined && (f.exception === undefined || WRAPPERS.test(f.exception))) return f.causeMessage
  return f.message ?? f.causeMessage
}

/** Fills cause and cause message from the stack trace, and the triage label. */
function derive(out: DlqFailure): void {
  if (out.stacktrace) {
    const causes = stackCauses(out.stacktrace)
    if (out.cause === undefined && causes.length) out.cause = causes[causes.length - 1].cause
    if (out.cause !== undefined && out.causeMessage === undefined) {
      const match = [...causes].reverse().find((c) => c.cause === out.cause)
      if (match?.message) out.causeMessage = match.message
    }
  }
  const useCause = out.cause !== undefined && (out.exception === undefined || WRAPPERS.test(out.exception))
  const cls = useCause ? out.cause : out.exception
  const msg = useCause ? out.causeMessage : out.message
  if (cls) out.reason = msg ? `${simpleClassName(cls)}: ${messageGist(msg)}` : simpleClassName(cls)
  else if (msg) out.reason = messageGist(msg)
  else if (out.stage) out.reason = out.stage
}

/**
 * Parses the dead-letter headers of one record. Never throws; `framework: 'unknown'` when
 * there are none.
 */
export function parseFailure(headers: RecordHeader[]): DlqFailure {
  const framework = detectFramework(headers)
  const out: DlqFailure = { framework }
  const r = new HeaderReader(headers)
  switch (framework) {
    case 'spring-dlt':
      parseSpring(r, out, 'kafka_dlt-original-', 'kafka_dlt-exception-', 'kafka_dlt-key-exception-')
      break
    case 'spring-retry':
      parseSpring(r, out, 'kafka_original-', 'kafka_exception-', 'kafka_key-exception-')
      break
    case 'spring-cloud-stream':
      out.originalTopic = r.text('x-original-topic')
      out.originalPartition = r.int32('x-original-partition')
      out.originalOffset = r.int64('x-original-offset')
      out.originalTimestamp = r.timestamp('x-original-timestamp')
      out.originalTimestampType = r.text('x-original-timestamp-type')
      out.exception = r.text('x-exception-fqcn')
      out.message = r.text('x-exception-message')
      out.stacktrace = r.text('x-exception-stacktrace')
      break
    case 'kafka-connect': {
      const p = '__connect.errors.'
      out.originalTopic = r.text(`${p}topic`)
      out.originalPartition = r.smallDecimal(`${p}partition`)
      out.originalOffset = r.decimal(`${p}offset`)
      out.connector = r.text(`${p}connector.name`)
      out.task = r.text(`${p}task.id`)
      out.stage = r.text(`${p}stage`)
      out.stageClass = r.text(`${p}class.name`)
      out.exception = r.text(`${p}exception.class.name`)
      out.message = r.text(`${p}exception.message`)
      out.stacktrace = r.text(`${p}exception.stacktrace`)
      break
    }
    case 'smallrye':
      out.originalTopic = r.text('dead-letter-topic')
      out.originalPartition = r.smallDecimal('dead-letter-partition')
      out.originalOffset = r.decimal('dead-letter-offset')
      out.exception = r.text('dead-letter-exception-class-name')
      out.message = r.text('dead-letter-reason')
      out.cause = r.text('dead-letter-cause-class-name')
      out.causeMessage = r.text('dead-letter-cause')
      out.attempts = r.smallDecimal('delayed-retry-count')
      break
    case 'masstransit':
      out.exception = r.text('mt-fault-exceptiontype')
      out.message = r.text('mt-fault-message')
      out.stacktrace = r.text('mt-fault-stacktrace')
      out.stage = r.text('mt-reason')
      out.attempts = r.smallDecimal('mt-fault-retrycount')
      out.redeliveries = r.smallDecimal('mt-redelivery-count')
      break
    case 'generic': {
      out.originalTopic = r.text('x-original-topic')
      const partition = r.textOrBinary('x-original-partition', 4)
      out.originalPartition = typeof partition === 'number' ? partition : undefined
      out.originalOffset = r.textOrBinary('x-original-offset', 8)
      break
    }
    case 'unknown':
      return out
  }
  derive(out)
  if (r.warnings.length) out.warnings = r.warnings
  for (const k of Object.keys(out) as Array<keyof DlqFailure>) if (out[k] === undefined) delete out[k]
  return out
}
