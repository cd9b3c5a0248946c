/**
 * Reading records back from the JSON lines `evt tail -f json` writes (see output/records.ts),
 * byte-exact: JSON keys/values are taken as their raw text from the line, not re-serialised.
 */
import { usageError } from '../errors.ts'
import type { OrderedHeader } from '../kafka/record-encoding.ts'

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

function bytesOf(raw: string | undefined, encoding: string | undefined, field: string): Buffer | null {
  if (raw === undefined || raw === 'null') return null
  const enc = encoding ?? (raw.startsWith('"') ? 'text' : 'json')
  switch (enc) {
    case 'json':
      JSON.parse(raw) // must be valid JSON; the bytes are its raw text
      return Buffer.from(raw, 'utf8')
    case 'text':
      return Buffer.from(JSON.parse(raw) as string, 'utf8')
    case 'base64':
      return Buffer.from(JSON.parse(raw) as string, 'base64')
    case 'null':
      return null
    default:
      throw new Error(`${field}Encoding "${enc}" cannot be written back (use json, text, base64 or null)`)
  }
}

/**
 * Parses one line of `evt tail -f json` output into a record. Lines written by hand may omit
 * the encodings: a JSON string is then text, anything else JSON.
 * @throws EvtError (usage) naming the line number and the problem.
 */
export function parseJsonLine(line: string, lineNumber: number): JsonLineRecord {
  try {
    const m = rawMembers(line)
    const enc = (name: string) => (m.has(name) ? (JSON.parse(m.get(name)!) as string) : undefined)
    const headers: OrderedHeader[] = []
    if (m.has('headers')) {
      const list = JSON.parse(m.get('headers')!) as Array<{ key: string; value: string | null; encoding?: string }>
      if (!Array.isArray(list)) throw new Error('"headers" must be an array of {key, value, encoding}')
      for (const h of list) {
        if (typeof h?.key !== 'string') throw new Error('each header needs a string "key"')
        const value = h.value === null || h.encoding === 'null' ? null : h.encoding === 'base64' ? Buffer.from(h.value, 'base64') : Buffer.from(String(h.value), 'utf8')
        headers.push({ key: h.key, value })
      }
    }
    const partition = m.has('partition') ? Number(m.get('partition')) : undefined
    const timestamp = m.has('timestamp') ? Number(m.get('timestamp')) : undefined
    return { key: bytesOf(m.get('key'), enc('keyEncoding'), 'key'), value: bytesOf(m.get('value'), enc('valueEncoding'), 'value'), headers, partition, timestamp }
  } catch (err) {
    throw usageError(`--input json: line ${lineNumber}: ${(err as Error).message}`, 'each line must be a JSON object as written by: evt tail -f json')
  }
}

/** Splits `name=value` header flags. @throws EvtError (usage) without a name. */
export function parseHeaderFlag(spec: string): OrderedHeader {
  const eq = spec.indexOf('=')
  if (eq <= 0) throw usageError(`-H "${spec}" is not name=value`, 'e.g. -H content-type=application/json (repeatable)')
  return { key: spec.slice(0, eq), value: Buffer.from(spec.slice(eq + 1), 'utf8') }
}
