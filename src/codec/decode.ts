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
    try {
      return { kind: 'json', value: JSON.parse(text), text }
    } catch {
      // not JSON: fall through to text
    }
  }
  if (CONTROL.test(text)) return { kind: 'binary', value: bytes }
  return { kind: 'text', value: text, text }
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
