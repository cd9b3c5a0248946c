/**
 * Reading records back from the JSON lines `evt tail -f json` writes (see output/records.ts),
 * byte-exact: JSON keys/values are taken as their raw text from the line, not re-serialised.
 */
import { usageError } from '../errors.ts'
import type { OrderedHeader } from '../kafka/types.ts'

/** A record read from one JSON line. */
export interface JsonLineRecord {
  key: Buffer | null
  value: Buffer | null
  headers: OrderedHeader[]
  partition?: number
  timestamp?: number
}

/**
 * The raw text of each top-level member of a JSON object, in order (`{"a": [1, 2]}` →
 * a → `[1, 2]`). @throws Error when the text is not a JSON object.
 */
export function rawMembers(line: string): Map<string, string> {
  const out = new Map<string, string>()
  let i = skipWs(line, 0)
  if (line[i] !== '{') throw new Error('not a JSON object')
  i = skipWs(line, i + 1)
  if (line[i] === '}') return out
  for (;;) {
    if (line[i] !== '"') throw new Error(`expected a member name at ${i}`)
    const nameEnd = endOfString(line, i)
    const name = JSON.parse(line.slice(i, nameEnd)) as string
    i = skipWs(line, nameEnd)
    if (line[i] !== ':') throw new Error(`expected ':' at ${i}`)
    i = skipWs(line, i + 1)
    const start = i
    i = endOfValue(line, i)
    out.set(name, line.slice(start, i).trimEnd())
    i = skipWs(line, i)
    if (line[i] === ',') {
      i = skipWs(line, i + 1)
      continue
    }
    if (line[i] === '}' && skipWs(line, i + 1) === line.length) return out
    throw new Error(line[i] === '}' ? `unexpected text after the object at ${skipWs(line, i + 1)}` : `expected ',' or '}' at ${i}`)
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++
  return i
}

function endOfString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++
    else if (s[j] === '"') return j + 1
  }
  throw new Error('unterminated string')
}

function endOfValue(s: string, i: number): number {
  if (s[i] === '"') return endOfString(s, i)
  if (s[i] === '{' || s[i] === '[') {
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const c = s[j]
      if (c === '"') j = endOfString(s, j) - 1
      else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') {
        depth--
        if (depth === 0) return j + 1
      }
    }
    throw new Error('unterminated object or array')
  }
  // a number, true, false or null: nothing else may hide in it (a missing comma, a bare word)
  let j = i
  while (j < s.length && !/[\s,}\]]/.test(s[j])) j++
  if (!/^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(s.slice(i, j))) throw new Error(`expected a JSON value at ${i}`)
  return j
}

/**
 * True when `text` is base64 exactly as Node (and so `evt tail -f json`) writes it: the standard
 * alphabet, padded to a multiple of 4 with `=`, no whitespace, no stray bits in the last group.
 */
export function isStrictBase64(text: string): boolean {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return false
  return Buffer.from(text, 'base64').toString('base64') === text
}

function base64Bytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw new Error(`${what}: base64 encoding needs a JSON string`)
  if (!isStrictBase64(value)) throw new Error(`${what} is not valid base64 (standard alphabet, padded with =)`)
  return Buffer.from(value, 'base64')
}

function bytesOf(raw: string | undefined, encoding: string | undefined, field: string): Buffer | null {
  if (raw === undefined || raw === 'null') return null
  const enc = encoding ?? (raw.startsWith('"') ? 'text' : 'json')
  switch (enc) {
    case 'json':
      JSON.parse(raw) // must be valid JSON; the bytes are its raw text
      return Buffer.from(raw, 'utf8')
    case 'text': {
      const text: unknown = JSON.parse(raw)
      if (typeof text !== 'string') throw new Error(`${field}Encoding "text" needs a JSON string as the ${field} (use ${field}Encoding "json" for other JSON)`)
      return Buffer.from(text, 'utf8')
    }
    case 'base64':
      return base64Bytes(JSON.parse(raw), field)
    case 'null':
      return null
    default:
      throw new Error(`${field}Encoding "${enc}" cannot be written back (use json, text, base64 or null)`)
  }
}

function headerOf(h: unknown): OrderedHeader {
  const { key, value, encoding } = (h ?? {}) as { key?: unknown; value?: unknown; encoding?: unknown }
  if (typeof key !== 'string') throw new Error('each header needs a string "key"')
  const what = `header "${key}"`
  switch (encoding) {
    case undefined:
    case null:
    case 'text':
      if (value === null || value === undefined) return { key, value: null }
      if (typeof value === 'object') throw new Error(`${what}: the value must be a string, number, boolean or null`)
      return { key, value: Buffer.from(String(value), 'utf8') }
    case 'base64':
      return { key, value: value === null ? null : base64Bytes(value, what) }
    case 'null':
      return { key, value: null }
    default:
      throw new Error(`${what}: encoding ${JSON.stringify(encoding)} cannot be written back (use text, base64 or null)`)
  }
}

/** Options of {@link parseJsonLine}. */
export interface JsonLineOptions {
  /** The timestamp will be written: it must then be an integer epoch-ms ≥ 0 (checked only then). */
  keepTimestamps?: boolean
}

/**
 * Parses one line of `evt tail -f json` output into a record. Lines written by hand may omit
 * the encodings: a JSON string is then text, anything else JSON.
 * @throws EvtError (usage) naming the line number and the problem.
 */
export function parseJsonLine(line: string, lineNumber: number, options: JsonLineOptions = {}): JsonLineRecord {
  try {
    const m = rawMembers(line)
    const enc = (name: string) => (m.has(name) ? (JSON.parse(m.get(name)!) as string) : undefined)
    const headers: OrderedHeader[] = []
    if (m.has('headers')) {
      const list: unknown = JSON.parse(m.get('headers')!)
      if (!Array.isArray(list)) throw new Error('"headers" must be an array of {key, value, encoding}')
      for (const h of list) headers.push(headerOf(h))
    }
    const partition = m.has('partition') ? Number(m.get('partition')) : undefined
    let timestamp = m.has('timestamp') ? Number(m.get('timestamp')) : undefined
    if (options.keepTimestamps && m.has('timestamp')) {
      const raw = m.get('timestamp')!
      if (raw === 'null') timestamp = undefined
      else if (!/^(0|[1-9]\d*)$/.test(raw) || !Number.isSafeInteger(timestamp)) throw new Error(`"timestamp" ${raw} is not an integer epoch-ms ≥ 0 (needed with --keep-timestamps)`)
    }
    return { key: bytesOf(m.get('key'), enc('keyEncoding'), 'key'), value: bytesOf(m.get('value'), enc('valueEncoding'), 'value'), headers, partition, timestamp }
  } catch (err) {
    throw usageError(`--input json: line ${lineNumber}: ${(err as Error).message}`, 'each line must be a JSON object as written by: evt tail -f json')
  }
}

/**
 * Ends (without an error) when `signal` aborts, even while the source waits for data: the
 * pending read is abandoned (the caller destroys the stream behind it).
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
  if (!signal) {
    yield* source
    return
  }
  const it = source[Symbol.asyncIterator]()
  let onAbort = () => {}
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted')
    signal.addEventListener('abort', onAbort, { once: true })
  })
  let pending = false
  try {
    while (!signal.aborted) {
      const next = it.next()
      pending = true
      const r = await Promise.race([next, aborted])
      if (r === 'aborted') {
        next.catch(() => {})
        return
      }
      pending = false
      if (r.done) return
      yield r.value
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    // an iterator with a read in flight cannot be returned (it would wait for that read)
    if (!pending) await it.return?.()
  }
}

/**
 * Splits a byte stream into lines on `\n` only — never on a lone `\r`, U+2028 or U+2029, which
 * may sit inside values — streaming: only the current line is held, however long. With
 * `stripCr`, one `\r` before the `\n` is dropped (CRLF input). A last line without `\n` is
 * given too, unless `signal` aborted the read (then it may be cut short and is dropped).
 * Lines are the exact bytes (no UTF-8 decoding).
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>, options: { stripCr?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
  let parts: Buffer[] = []
  const line = (tail: Buffer): Buffer => {
    let out = parts.length ? Buffer.concat([...parts, tail]) : tail
    parts = []
    if (options.stripCr && out.length && out[out.length - 1] === 0x0d) out = out.subarray(0, out.length - 1)
    return out
  }
  for await (const c of untilAborted(chunks, options.signal)) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      yield line(chunk.subarray(start, nl))
      start = nl + 1
    }
    if (start < chunk.length) parts.push(chunk.subarray(start))
  }
  if (parts.length && !options.signal?.aborted) yield line(Buffer.alloc(0))
}

/** Splits `name=value` header flags. @throws EvtError (usage) without a name. */
export function parseHeaderFlag(spec: string): OrderedHeader {
  const eq = spec.indexOf('=')
  if (eq <= 0) throw usageError(`-H "${spec}" is not name=value`, 'e.g. -H content-type=application/json (repeatable)')
  return { key: spec.slice(0, eq), value: Buffer.from(spec.slice(eq + 1), 'utf8') }
}
