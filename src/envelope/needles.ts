/**
 * searchNeedles: the byte patterns under which a correlation id can appear in a record's raw
 * key, header and value bytes, so that trace can skip records without decoding them.
 */
import { isUuid } from './values.ts'

const HEX32 = /^[0-9a-f]{32}$/i

/**
 * The id's UTF-8 bytes; its lowercase form when that differs (UUIDs and trace ids are written
 * lowercase by Java, .NET, W3C and B3 producers); for a UUID (8-4-4-4-12) also its 16 raw bytes,
 * as Spring's `kafka_correlationId` writes it. An empty id has no needles.
 */
export function searchNeedles(id: string): Buffer[] {
  const trimmed = id.trim()
  if (trimmed === '') return []
  const texts = new Set([trimmed])
  if (isUuid(trimmed) || HEX32.test(trimmed)) texts.add(trimmed.toLowerCase())
  const out = [...texts].map((t) => Buffer.from(t, 'utf8'))
  if (isUuid(trimmed)) out.push(Buffer.from(trimmed.replaceAll('-', ''), 'hex'))
  return out
}
