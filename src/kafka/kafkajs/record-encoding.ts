/**
 * Record encoding for evt's producers, so that what is written is what was read.
 *
 * kafkajs 2.2.4 takes record headers as an object: interleaved duplicates (a, b, a) cannot be
 * expressed, integer-like names ("123") move to the front, and a null header value crashes its
 * size computation. evt passes headers as an ordered array of `{ key, value: Buffer | null }`
 * instead, and installs this encoder in place of kafkajs's record encoder (module
 * `kafkajs/src/protocol/recordBatch/record/v0/index.js`, loaded lazily by the first Produce
 * request, so it can be provided before). The wire format is Kafka's record v2
 * (https://kafka.apache.org/documentation/#record); object headers keep kafkajs's meaning.
 */
import { createRequire } from 'node:module'
import type { OrderedHeader } from '../types.ts'
import { cacheModule } from './produce-patches.ts'

const require = createRequire(import.meta.url)

function toHeaderList(headers: unknown): OrderedHeader[] {
  if (!headers) return []
  if (Array.isArray(headers)) return headers as OrderedHeader[]
  const list: OrderedHeader[] = []
  for (const [key, v] of Object.entries(headers as Record<string, unknown>)) {
    for (const value of Array.isArray(v) ? v : [v]) list.push({ key, value: value === null || value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(String(value)) })
  }
  return list
}

/** Zigzag encoding of a safe integer (Kafka's varint/varlong sign mapping), as a non-negative number. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1
}

/** Bytes of an unsigned LEB128 value (any safe integer ≥ 0, so varints and varlongs alike). */
function sizeOfUnsigned(u: number): number {
  let n = 1
  while (u >= 128) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

function writeUnsigned(buf: Buffer, at: number, u: number): number {
  while (u >= 128) {
    buf[at++] = (u % 128) | 128
    u = Math.floor(u / 128)
  }
  buf[at++] = u
  return at
}

function asBytes(v: Buffer | string | null | undefined): Buffer | null {
  return v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v))
}

/** Header names as UTF-8, by name: the same few names recur on every record. */
const NAMES = new Map<string, Buffer>()

function headerName(name: string): Buffer {
  let bytes = NAMES.get(name)
  if (!bytes) {
    bytes = Buffer.from(name, 'utf8')
    if (NAMES.size < 1024) NAMES.set(name, bytes)
  }
  return bytes
}

/** A finished record in the shape kafkajs's batch encoder takes from its own record encoder (`buf`, `buffer`). */
interface EncodedRecord {
  buf: Buffer
  readonly buffer: Buffer
}

/**
 * Encodes one record (Kafka record v2) into a buffer of its exact size, in one allocation: what
 * kafkajs's record encoder writes, without its growing 512-byte encoder per record and its 64-bit
 * integer objects for the timestamp delta (a JavaScript number is exact up to 2^53 ms).
 */
export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers }: { offsetDelta?: number; timestampDelta?: unknown; key: Buffer | string | null; value: Buffer | string | null; headers?: unknown }): EncodedRecord {
  const list = toHeaderList(headers)
  const k = asBytes(key)
  const v = asBytes(value)
  const delta = zigzag(Number(timestampDelta))
  const names = list.map((h) => headerName(h.key))
  let body = 1 + sizeOfUnsigned(delta) + sizeOfUnsigned(zigzag(offsetDelta))
  body += k === null ? 1 : sizeOfUnsigned(k.length * 2) + k.length
  body += v === null ? 1 : sizeOfUnsigned(v.length * 2) + v.length
  body += sizeOfUnsigned(list.length * 2)
  for (let i = 0; i < list.length; i++) {
    const hv = list[i].value
    body += sizeOfUnsigned(names[i].length * 2) + names[i].length + (hv === null ? 1 : sizeOfUnsigned(hv.length * 2) + hv.length)
  }
  const buf = Buffer.allocUnsafe(sizeOfUnsigned(zigzag(body)) + body)
  let at = writeUnsigned(buf, 0, zigzag(body))
  buf[at++] = 0 // attributes
  at = writeUnsigned(buf, at, delta)
  at = writeUnsigned(buf, at, zigzag(offsetDelta))
  const bytes = (b: Buffer | null) => {
    if (b === null) {
      buf[at++] = 1 // zigzag(-1)
      return
    }
    at = writeUnsigned(buf, at, b.length * 2)
    at += b.copy(buf, at)
  }
  bytes(k)
  bytes(v)
  at = writeUnsigned(buf, at, list.length * 2)
  for (let i = 0; i < list.length; i++) {
    bytes(names[i])
    bytes(list[i].value)
  }
  return { buf, buffer: buf }
}

/**
 * Makes kafkajs encode records with {@link OrderedHeader} arrays. Installed by the adapter's
 * factory (client.ts) before any producer exists; idempotent.
 */
export function installOrderedHeaderEncoding(): void {
  const path = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
  const cached = require.cache[path] as (NodeJS.Module & { evtOrderedHeaders?: boolean }) | undefined
  if (cached?.evtOrderedHeaders) return
  cacheModule(path, encodeRecord, 'evtOrderedHeaders')
  // Produce request modules that already captured kafkajs's encoder are loaded again on their
  // next use (kafkajs requires them lazily, per request version), and then capture this one.
  const produceDir = path.replace(/recordBatch[\\/]record[\\/]v0[\\/]index\.js$/, 'requests/produce/')
  for (const key of Object.keys(require.cache)) if (key.startsWith(produceDir) && key.endsWith('request.js')) delete require.cache[key]
}
