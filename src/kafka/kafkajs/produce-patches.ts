/**
 * Two kafkajs 2.2.4 internals of producing, replaced by equivalents that cost less per record
 * (bench/RESULTS.md, "replay"); both return exactly what kafkajs's own return:
 *
 * - `kafkajs/src/producer/groupMessagesPerPartition.js` copies a partition's array for every
 *   message it adds (quadratic in the messages per partition of one send); here one push each.
 * - `kafkajs/src/protocol/recordBatch/crc32C/index.js`, the CRC-32C (Castagnoli) of every record
 *   batch written, one byte per step; here eight bytes per step ("slicing-by-8", the tables built
 *   from kafkajs's polynomial, 0x82F63B78 reflected).
 *
 * Modules are provided through Node's CommonJS cache before kafkajs requires them: the grouping is
 * required when kafkajs itself loads, so this module is imported before kafkajs (first import of
 * client.ts; its evaluation installs). When kafkajs was loaded before (another importer), its own
 * grouping stays in use: slower, same result. The CRC module is loaded lazily with the first record
 * batch, so it is replaced unless a record batch was encoded before.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** One send's messages of a topic by partition: kafkajs's `groupMessagesPerPartition`, linear. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: { topic: string; partitionMetadata: unknown[]; messages: M[]; partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number }): Record<number, M[]> {
  const result: Record<number, M[]> = {}
  if (partitionMetadata.length === 0) return result
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    ;(result[partition] ??= []).push(message)
  }
  return result
}

/** CRC-32C lookup tables for slicing-by-8, one after the other: `TABLES[k * 256 + b]` is the CRC of byte b followed by k zero bytes. */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256)
  for (let b = 0; b < 256; b++) {
    let c = b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[b] = c
  }
  for (let b = 0; b < 256; b++) for (let k = 1; k < 8; k++) t[k * 256 + b] = (t[(k - 1) * 256 + b] >>> 8) ^ t[t[(k - 1) * 256 + b] & 0xff]
  return t
})()

/** CRC-32C (Castagnoli) of `buffer`, unsigned: what Kafka's record batch header carries. */
export function crc32c(buffer: Uint8Array): number {
  const t = TABLES
  const n = buffer.length
  const fast = n - (n & 7)
  let crc = -1
  let i = 0
  while (i < fast) {
    crc ^= buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24)
    crc = t[1792 + (crc & 0xff)] ^ t[1536 + ((crc >>> 8) & 0xff)] ^ t[1280 + ((crc >>> 16) & 0xff)] ^ t[1024 + (crc >>> 24)] ^ t[768 + buffer[i + 4]] ^ t[512 + buffer[i + 5]] ^ t[256 + buffer[i + 6]] ^ t[buffer[i + 7]]
    i += 8
  }
  while (i < n) crc = t[(crc ^ buffer[i++]) & 0xff] ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}

/**
 * Puts a loaded module with `exports` in Node's CommonJS cache at `path` (a resolved file name), replacing what
 * is there, marked with `marker` (a property set to true on the module, so a later check sees it is evt's).
 */
export function cacheModule(path: string, exports: unknown, marker: string): void {
  const Module = require('node:module') as { new (id: string): NodeJS.Module }
  const mod = new Module(path) as NodeJS.Module & Record<string, unknown>
  mod.filename = path
  mod.loaded = true
  mod.exports = exports
  mod[marker] = true
  require.cache[path] = mod
}

/** Puts `exports` in Node's CommonJS cache under kafkajs's module `id` (unless it is loaded already). @returns whether it was installed. */
function provide(id: string, exports: unknown): boolean {
  const path = require.resolve(id)
  if (require.cache[path]) return (require.cache[path] as NodeJS.Module & { evtPatched?: boolean }).evtPatched === true
  cacheModule(path, exports, 'evtPatched')
  return true
}

/**
 * Installs both replacements where kafkajs has not loaded its own yet (idempotent); called when
 * this module is evaluated. @returns which of them are in use.
 */
export function installProducePatches(): { grouping: boolean; crc: boolean } {
  return {
    grouping: provide('kafkajs/src/producer/groupMessagesPerPartition.js', groupMessagesPerPartition),
    crc: provide('kafkajs/src/protocol/recordBatch/crc32C/index.js', crc32c),
  }
}

installProducePatches()
