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

const require = createRequire(import.meta.url)

interface KafkajsEncoder {
  writeVarInt(v: number): KafkajsEncoder
  writeInt8(v: number): KafkajsEncoder
  writeVarLong(v: unknown): KafkajsEncoder
  writeVarIntBytes(v: Buffer | string | null): KafkajsEncoder
  writeVarIntString(v: string): KafkajsEncoder
  writeBuffer(b: Buffer): KafkajsEncoder
}

interface EncoderClass {
  new (): KafkajsEncoder
  sizeOfVarInt(v: number): number
  sizeOfVarLong(v: unknown): number
  sizeOfVarIntBytes(v: unknown): number
}

function toHeaderList(headers: unknown): OrderedHeader[] {
  if (!headers) return []
  if (Array.isArray(headers)) return headers as OrderedHeader[]
  const list: OrderedHeader[] = []
  for (const [key, v] of Object.entries(headers as Record<string, unknown>)) {
    for (const value of Array.isArray(v) ? v : [v]) list.push({ key, value: value === null || value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(String(value)) })
  }
  return list
}

function makeRecordEncoder(Encoder: EncoderClass) {
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers }: { offsetDelta?: number; timestampDelta?: unknown; key: Buffer | string | null; value: Buffer | string | null; headers?: unknown }) => {
    const list = toHeaderList(headers)
    let headerBytes = Encoder.sizeOfVarInt(list.length)
    for (const h of list) {
      const k = Buffer.byteLength(h.key)
      headerBytes += Encoder.sizeOfVarInt(k) + k
      headerBytes += h.value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(h.value.length) + h.value.length
    }
    const size = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headerBytes
    const encoder = new Encoder().writeVarInt(size).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(list.length)
    for (const h of list) encoder.writeVarIntString(h.key).writeVarIntBytes(h.value)
    return encoder
  }
}

/**
 * Makes kafkajs encode records with {@link OrderedHeader} arrays. Installed by the adapter's
 * factory (client.ts) before any producer exists; idempotent.
 */
export function installOrderedHeaderEncoding(): void {
  const path = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
  const cached = require.cache[path] as (NodeJS.Module & { evtOrderedHeaders?: boolean }) | undefined
  if (cached?.evtOrderedHeaders) return
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass
  const Module = require('node:module') as { new (id: string): NodeJS.Module }
  const mod = new Module(path) as NodeJS.Module & { evtOrderedHeaders?: boolean }
  mod.filename = path
  mod.loaded = true
  mod.exports = makeRecordEncoder(Encoder)
  mod.evtOrderedHeaders = true
  require.cache[path] = mod
  // Produce request modules that already captured kafkajs's encoder are loaded again on their
  // next use (kafkajs requires them lazily, per request version), and then capture this one.
  const produceDir = path.replace(/recordBatch[\\/]record[\\/]v0[\\/]index\.js$/, 'requests/produce/')
  for (const key of Object.keys(require.cache)) if (key.startsWith(produceDir) && key.endsWith('request.js')) delete require.cache[key]
}
