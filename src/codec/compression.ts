/**
 * Kafka record-batch compression codecs (attributes bits 0-2: 1 gzip, 2 snappy, 3 lz4, 4 zstd).
 *
 * - gzip: node:zlib (RFC 1952; several concatenated members are accepted).
 * - zstd: node:zlib (`zstdCompressSync` / `zstdDecompressSync`, Node ≥ 22.15); frames with or without
 *   a content size, as zstd-jni (Java) and librdkafka write them.
 * - snappy: the `snappy` package (napi-rs, prebuilt). Decompression accepts both framings found in
 *   Kafka: the xerial/snappy-java stream written by Java producers (magic `82 53 4E 41 50 50 59 00`,
 *   int32 version, int32 min-compatible version, then blocks of [int32 BE length][raw snappy block])
 *   and a plain raw snappy block as librdkafka writes. Compression writes the xerial framing with
 *   32 KiB input blocks, as the Java client does (librdkafka reads both).
 * - lz4: the `lz4-napi` package (napi-rs, lz4_flex). Kafka's LZ4 is the LZ4 *frame* format (magic
 *   `04 22 4D 18`); compression writes independent blocks without checksums, like Java's
 *   KafkaLZ4BlockOutputStream (lz4_flex picks the block size from the input: 64 KiB up to 4 MiB,
 *   all valid for Java's and librdkafka's readers).
 *
 * The native packages are loaded on first use (through `require`, which caches them), so importing
 * this module has no side effect and costs nothing for commands that never meet a compressed batch.
 */
import { createRequire } from 'node:module'
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib'

/** A Kafka compression codec other than `none`. */
export type CompressionCodec = 'gzip' | 'snappy' | 'lz4' | 'zstd'

type SnappyModule = typeof import('snappy')
type Lz4Module = typeof import('lz4-napi')

const require = createRequire(import.meta.url)
const loadSnappy = (): SnappyModule => require('snappy') as SnappyModule
const loadLz4 = (): Lz4Module => require('lz4-napi') as Lz4Module

/** snappy-java's stream header magic: 0x82 'SNAPPY' 0x00. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** magic (8) + version int32 + min compatible version int32. */
const XERIAL_HEADER_SIZE = 16
/** snappy-java's SnappyOutputStream default block size, used by Kafka's Java producer. */
const XERIAL_BLOCK_SIZE = 32 * 1024

/**
 * snappy's `uncompressSync` options. `copyOutputData` makes it return a buffer copied into V8's heap
 * instead of an "external" buffer: measured 10× faster here, because every external buffer adds to
 * V8's external-memory count and so triggers extra garbage collections.
 */
const SNAPPY_OUT = { asBuffer: true, copyOutputData: true } as const

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0
}

function snappyDecompress(data: Buffer): Buffer {
  const snappy = loadSnappy()
  if (!isXerial(data)) return snappy.uncompressSync(data, SNAPPY_OUT) as Buffer
  const parts: Buffer[] = []
  let total = 0
  let p = XERIAL_HEADER_SIZE
  while (p < data.length) {
    if (p + 4 > data.length) throw new Error(`snappy (xerial): truncated block length at byte ${p}`)
    const len = data.readInt32BE(p)
    p += 4
    if (len < 0 || p + len > data.length) throw new Error(`snappy (xerial): block of ${len} bytes at byte ${p - 4} runs past the end (${data.length} bytes)`)
    const part = snappy.uncompressSync(data.subarray(p, p + len), SNAPPY_OUT) as Buffer
    parts.push(part)
    total += part.length
    p += len
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total)
}

const LZ4_FRAME_MAGIC = 0x184d2204

/**
 * LZ4 frame decompression. lz4-napi's `decompressFrameSync` returns an external buffer (slow, see
 * SNAPPY_OUT: ~300 MB/s measured), so the common frame profile — the one Kafka's Java client and
 * librdkafka write: one frame of independent blocks, no dictionary — is walked here and each block
 * decoded with lz4-napi's block decoder (~1.7 GB/s); concatenated frames are decoded too. Anything
 * else (linked blocks, dictionary id, skippable frames, malformed framing) goes to
 * `decompressFrameSync`. Block and content
 * checksums are skipped on the fast path (the batch CRC is what guards Kafka data).
 */
function lz4Decompress(data: Buffer): Buffer {
  const lz4 = loadLz4()
  return lz4IndependentBlocks(lz4, data) ?? lz4.decompressFrameSync(data)
}

function lz4IndependentBlocks(lz4: Lz4Module, data: Buffer): Buffer | undefined {
  const parts: Buffer[] = []
  let total = 0
  let scratch: Buffer | undefined
  let p = 0
  // one frame, or several concatenated (lz4-napi's decoder would stop after the first)
  do {
    if (p + 7 > data.length || data.readUInt32LE(p) !== LZ4_FRAME_MAGIC) return undefined
    const flg = data[p + 4]
    // version 01, block independence set, reserved bit and dictionary id clear
    if ((flg & 0xc0) !== 0x40 || (flg & 0x20) === 0 || (flg & 0x03) !== 0) return undefined
    const sizeCode = (data[p + 5] >> 4) & 0x07
    if (sizeCode < 4) return undefined
    const maxBlock = 1 << (8 + 2 * sizeCode) // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
    const blockChecksum = (flg & 0x10) !== 0
    p += 6 + ((flg & 0x08) !== 0 ? 8 : 0) + 1 // magic, FLG, BD, content size, header checksum
    for (;;) {
      if (p + 4 > data.length) return undefined
      const word = data.readUInt32LE(p)
      p += 4
      if (word === 0) break // end mark
      const len = word & 0x7fffffff
      if (len > maxBlock || p + len > data.length) return undefined
      let part: Buffer
      if ((word & 0x80000000) !== 0) part = data.subarray(p, p + len) // stored uncompressed
      else {
        // lz4-napi's block decoder wants [uint32 LE max output size][block]
        if (scratch === undefined || scratch.length < 4 + len) scratch = Buffer.allocUnsafe(4 + Math.min(maxBlock, data.length))
        scratch.writeUInt32LE(maxBlock, 0)
        data.copy(scratch, 4, p, p + len)
        part = lz4.uncompressSync(scratch.subarray(0, 4 + len))
      }
      parts.push(part)
      total += part.length
      p += len + (blockChecksum ? 4 : 0)
    }
    if ((flg & 0x04) !== 0) p += 4 // content checksum
  } while (p < data.length)
  if (p !== data.length) return undefined
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total)
}

function snappyCompressXerial(data: Buffer): Buffer {
  const snappy = loadSnappy()
  const header = Buffer.alloc(XERIAL_HEADER_SIZE)
  XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(1, 8) // version
  header.writeInt32BE(1, 12) // minimum compatible version
  const parts: Buffer[] = [header]
  for (let p = 0; p < data.length; p += XERIAL_BLOCK_SIZE) {
    const block = snappy.compressSync(data.subarray(p, Math.min(p + XERIAL_BLOCK_SIZE, data.length)))
    const len = Buffer.allocUnsafe(4)
    len.writeInt32BE(block.length, 0)
    parts.push(len, block)
  }
  return Buffer.concat(parts)
}

/**
 * Decompresses the records section of a compressed record batch (synchronous).
 * @throws Error when the data is not valid for `codec` (the message names the codec).
 */
export function decompress(codec: CompressionCodec, data: Buffer): Buffer {
  try {
    switch (codec) {
      case 'gzip':
        return gunzipSync(data)
      case 'zstd':
        return zstdDecompressSync(data)
      case 'snappy':
        return snappyDecompress(data)
      case 'lz4':
        return lz4Decompress(data)
      default:
        throw new Error(`unknown compression codec '${String(codec)}'`)
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    throw new Error(message.startsWith(codec) ? message : `${codec} decompression failed: ${message}`, { cause: e })
  }
}

/**
 * Compresses `data` the way the Java producer does for `codec` (synchronous): gzip, xerial-framed
 * snappy, LZ4 frame (independent blocks, no checksums), zstd (level 3).
 */
export function compress(codec: CompressionCodec, data: Buffer): Buffer {
  switch (codec) {
    case 'gzip':
      return gzipSync(data)
    case 'zstd':
      return zstdCompressSync(data)
    case 'snappy':
      return snappyCompressXerial(data)
    case 'lz4':
      return loadLz4().compressFrameSync(data, { contentChecksum: false, blockChecksums: false })
    default:
      throw new Error(`unknown compression codec '${String(codec)}'`)
  }
}
