/**
 * Bytes → values for keys, values and headers without a schema: JSON, UTF-8 text or binary.
 * (Schema-registry framing is decoded on top of this, in a later layer.)
 */
import { isUtf8 } from 'node:buffer'
import type { Decoded, DecodedRecord, RawRecord } from '../record.ts'

/** A {@link Decoded} for JSON or text that also keeps the exact UTF-8 text of the bytes. */
export interface DecodedWithText extends Decoded {
  /** The bytes as UTF-8 text, for kinds json and text. */
  text?: string
}

/** Text counts as printable when it has no control characters other than tab, LF and CR. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/**
 * Decodes bytes as JSON (valid UTF-8 that parses as one JSON value), else text (valid,
 * printable UTF-8), else binary. `null` stays `null` (a tombstone or a null key); an empty
 * buffer is text "". Never throws.
 */
export function decodeBytes(bytes: Buffer | null): DecodedWithText {
  if (bytes === null) return { kind: 'null', value: null }
  if (bytes.length === 0) return { kind: 'text', value: '', text: '' }
  if (!isUtf8(bytes)) return { kind: 'binary', value: bytes }
  const text = bytes.toString('utf8')
  const first = firstNonSpace(text)
  if (first === '{' || first === '[' || first === '"' || first === '-' || first === 't' || first === 'f' || first === 'n' || (first >= '0' && first <= '9')) {
    if (isJsonText(bytes)) return lazyJson(text)
    // not JSON: fall through to text
  }
  if (CONTROL.test(text)) return { kind: 'binary', value: bytes }
  return { kind: 'text', value: text, text }
}

/**
 * A decoded JSON value that is parsed on first read of `value` (then kept as a plain data property).
 * Most records are only printed (`-f json` embeds the text) or searched, and building every object
 * tree up front cost more than the rest of a tail together (allocation and GC). `value` stays an own
 * enumerable property, in the same key order as before, so spreading, comparing and serialising see
 * the same object as with an eager parse.
 */
function lazyJson(text: string): DecodedWithText {
  // built in key order (kind, value, text) with the one shared accessor: every such object gets the
  // same hidden class and stays a fast object (redefining an existing `value` would not)
  const decoded = { kind: 'json' } as DecodedWithText
  Object.defineProperty(decoded, 'value', LAZY_JSON_VALUE)
  decoded.text = text
  return decoded
}

function setValue(target: DecodedWithText, value: unknown): void {
  Object.defineProperty(target, 'value', { value, writable: true, enumerable: true, configurable: true })
}

/** Shared accessor for {@link lazyJson}: the first read parses `text` and replaces itself by the result. */
const LAZY_JSON_VALUE: PropertyDescriptor = Object.freeze({
  get(this: DecodedWithText): unknown {
    const value: unknown = JSON.parse(this.text!)
    setValue(this, value)
    return value
  },
  set(this: DecodedWithText, value: unknown): void {
    setValue(this, value)
  },
  enumerable: true,
  configurable: true,
})

/**
 * True when the (valid UTF-8) bytes are exactly one JSON value with optional surrounding whitespace,
 * i.e. when `JSON.parse` of their text succeeds (RFC 8259 grammar, which is what JSON.parse accepts:
 * any nesting depth, duplicate keys, any escapes incl. lone surrogates, no control characters in
 * strings). A byte scanner that allocates nothing but a small stack for deep nesting.
 */
export function isJsonText(d: Uint8Array): boolean {
  const n = d.length
  // containers open: 1 = object, 2 = array. Inline for the usual depth, an array beyond it.
  let depth = 0
  let bits = 0 // bit k set: container k (k < 31) is an array
  let deep: number[] | undefined
  let i = skipWs(d, 0, n)
  value: for (;;) {
    if (i >= n) return false
    const c = d[i]
    if (c === 0x7b) { // {
      i = skipWs(d, i + 1, n)
      if (i < n && d[i] === 0x7d) i++
      else {
        if (depth < 31) bits &= ~(1 << depth)
        else (deep ??= []).push(1)
        depth++
        i = member(d, i, n)
        if (i < 0) return false
        continue value
      }
    } else if (c === 0x5b) { // [
      i = skipWs(d, i + 1, n)
      if (i < n && d[i] === 0x5d) i++
      else {
        if (depth < 31) bits |= 1 << depth
        else (deep ??= []).push(2)
        depth++
        continue value
      }
    } else if (c === 0x22) { // "
      i = skipString(d, i, n)
      if (i < 0) return false
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // - 0-9
      i = skipNumber(d, i, n)
      if (i < 0) return false
    } else if (c === 0x74) { // true
      if (i + 3 >= n || d[i + 1] !== 0x72 || d[i + 2] !== 0x75 || d[i + 3] !== 0x65) return false
      i += 4
    } else if (c === 0x66) { // false
      if (i + 4 >= n || d[i + 1] !== 0x61 || d[i + 2] !== 0x6c || d[i + 3] !== 0x73 || d[i + 4] !== 0x65) return false
      i += 5
    } else if (c === 0x6e) { // null
      if (i + 3 >= n || d[i + 1] !== 0x75 || d[i + 2] !== 0x6c || d[i + 3] !== 0x6c) return false
      i += 4
    } else return false
    // after a value: a comma (next element or member), or close containers
    for (;;) {
      i = skipWs(d, i, n)
      if (depth === 0) return i === n
      if (i >= n) return false
      const isArray = depth <= 31 ? (bits & (1 << (depth - 1))) !== 0 : deep![depth - 32] === 2
      const t = d[i]
      if (t === 0x2c) { // ,
        i = skipWs(d, i + 1, n)
        if (!isArray) {
          i = member(d, i, n)
          if (i < 0) return false
        }
        continue value
      }
      if (t !== (isArray ? 0x5d : 0x7d)) return false
      i++
      depth--
      if (depth >= 31) deep!.pop()
    }
  }
}

/** `"key" ws : ws` at i (after whitespace); returns the index of the member's value, or -1. */
function member(d: Uint8Array, i: number, n: number): number {
  if (i >= n || d[i] !== 0x22) return -1
  i = skipString(d, i, n)
  if (i < 0) return -1
  i = skipWs(d, i, n)
  if (i >= n || d[i] !== 0x3a) return -1
  return skipWs(d, i + 1, n)
}

function skipWs(d: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = d[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/** Bytes that may stand for themselves inside a JSON string: not a control character, quote or backslash. */
const STRING_PLAIN = (() => {
  const t = new Uint8Array(256)
  for (let c = 0x20; c < 256; c++) t[c] = c === 0x22 || c === 0x5c ? 0 : 1
  return t
})()

/** A string starting at the quote at i; returns the index after its closing quote, or -1. */
function skipString(d: Uint8Array, i: number, n: number): number {
  i++
  for (;;) {
    while (i < n && STRING_PLAIN[d[i]] === 1) i++
    if (i >= n) return -1
    const c = d[i]
    if (c === 0x22) return i + 1
    if (c !== 0x5c) return -1 // a control character
    const e = d[i + 1]
    if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2
    else if (e === 0x75) {
      if (i + 5 >= n || !isHex(d[i + 2]) || !isHex(d[i + 3]) || !isHex(d[i + 4]) || !isHex(d[i + 5])) return -1
      i += 6
    } else return -1
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at i; returns the index after it, or -1. */
function skipNumber(d: Uint8Array, i: number, n: number): number {
  if (d[i] === 0x2d) i++
  if (i >= n) return -1
  let c = d[i]
  if (c === 0x30) i++
  else if (c >= 0x31 && c <= 0x39) {
    i++
    while (i < n && d[i] >= 0x30 && d[i] <= 0x39) i++
  } else return -1
  if (i < n && d[i] === 0x2e) {
    i++
    const from = i
    while (i < n && d[i] >= 0x30 && d[i] <= 0x39) i++
    if (i === from) return -1
  }
  c = d[i]
  if (i < n && (c === 0x65 || c === 0x45)) {
    i++
    if (i < n && (d[i] === 0x2b || d[i] === 0x2d)) i++
    const from = i
    while (i < n && d[i] >= 0x30 && d[i] <= 0x39) i++
    if (i === from) return -1
  }
  return i
}

function firstNonSpace(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') return c
  }
  return ''
}

/** Adds key and value decodings to a raw record. */
export function decodeRecord(record: RawRecord): DecodedRecord {
  return { ...record, keyDecoded: decodeBytes(record.key), valueDecoded: decodeBytes(record.value) }
}

/** How a header value is shown: UTF-8 text when valid and printable, else base64; null kept. */
export function headerText(value: Buffer | null): { value: string | null; encoding: 'text' | 'base64' | 'null' } {
  if (value === null) return { value: null, encoding: 'null' }
  if (isUtf8(value)) {
    const text = value.toString('utf8')
    if (!CONTROL.test(text)) return { value: text, encoding: 'text' }
  }
  return { value: value.toString('base64'), encoding: 'base64' }
}
