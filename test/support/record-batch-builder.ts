/**
 * Test-only encoder for Kafka record batches (magic v2) and Fetch responses (v4–v11), written from
 * the protocol spec independently of src/kafka/fetch-decoder.ts (shares no code with it). Varints
 * are encoded through BigInt so that 64-bit timestamp deltas are exact.
 */

/** Big-endian byte writer over a growing array of chunks. */
export class ByteWriter {
  private readonly chunks: Buffer[] = []

  int8(v: number): this {
    const b = Buffer.alloc(1)
    b.writeInt8(v)
    return this.raw(b)
  }

  int16(v: number): this {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    return this.raw(b)
  }

  int32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    return this.raw(b)
  }

  uint32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(v)
    return this.raw(b)
  }

  int64(v: number | bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt(v))
    return this.raw(b)
  }

  /** Zigzag varint/varlong (same wire form; Kafka's varint is the 32-bit range of it). */
  varint(v: number | bigint): this {
    const n = BigInt(v)
    let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n))
    const bytes: number[] = []
    do {
      let byte = Number(z & 0x7fn)
      z >>= 7n
      if (z !== 0n) byte |= 0x80
      bytes.push(byte)
    } while (z !== 0n)
    return this.raw(Buffer.from(bytes))
  }

  /** varint length + bytes; null → length -1. */
  varBytes(b: Buffer | string | null): this {
    if (b === null) return this.varint(-1)
    const buf = typeof b === 'string' ? Buffer.from(b, 'utf8') : b
    return this.varint(buf.length).raw(buf)
  }

  /** int16 length + UTF-8. */
  string(s: string): this {
    const buf = Buffer.from(s, 'utf8')
    return this.int16(buf.length).raw(buf)
  }

  raw(b: Buffer): this {
    this.chunks.push(b)
    return this
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

/** CRC-32C (Castagnoli), as record batches carry it; bit-by-bit, tests only. */
export function crc32c(data: Buffer): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

export interface TestHeader {
  key: string
  value: Buffer | string | null
}

export interface TestRecord {
  offsetDelta: number
  /** zigzag varlong; may exceed 2^31. */
  timestampDelta?: number | bigint
  key?: Buffer | string | null
  value?: Buffer | string | null
  headers?: TestHeader[]
  /** record attributes byte (unused by Kafka; 0). */
  attributes?: number
}

/** Encodes one record (length varint + body). */
export function encodeRecord(r: TestRecord): Buffer {
  const body = new ByteWriter()
    .int8(r.attributes ?? 0)
    .varint(r.timestampDelta ?? 0)
    .varint(r.offsetDelta)
    .varBytes(r.key === undefined ? null : r.key)
    .varBytes(r.value === undefined ? null : r.value)
  const headers = r.headers ?? []
  body.varint(headers.length)
  for (const h of headers) body.varBytes(h.key).varBytes(h.value)
  const bodyBytes = body.toBuffer()
  return new ByteWriter().varint(bodyBytes.length).raw(bodyBytes).toBuffer()
}

export type TestCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
const CODEC_IDS: Record<TestCodec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

export interface TestBatch {
  baseOffset: number
  /** defaults to the largest offsetDelta */
  lastOffsetDelta?: number
  baseTimestamp: number
  /** defaults to baseTimestamp + largest timestampDelta */
  maxTimestamp?: number
  logAppendTime?: boolean
  transactional?: boolean
  control?: boolean
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  partitionLeaderEpoch?: number
  /** compression codec (attributes bits 0–2) */
  codec?: TestCodec
  /** compresses the concatenated records; required when codec ≠ none */
  compress?: (records: Buffer) => Buffer
  /** overrides the magic byte (to build legacy/unknown-magic cases) */
  magic?: number
  /** overrides the attributes' codec id (to build unsupported-codec cases) */
  codecId?: number
  records: TestRecord[]
}

/** Encodes a full record batch: baseOffset int64, batchLength int32, then the rest. */
export function encodeBatch(b: TestBatch): Buffer {
  const codec = b.codec ?? 'none'
  const lastOffsetDelta = b.lastOffsetDelta ?? Math.max(0, ...b.records.map((r) => r.offsetDelta))
  const maxDelta = b.records.reduce((m, r) => (BigInt(r.timestampDelta ?? 0) > m ? BigInt(r.timestampDelta ?? 0) : m), 0n)
  const maxTimestamp = b.maxTimestamp ?? Number(BigInt(b.baseTimestamp) + maxDelta)
  let attributes = b.codecId ?? CODEC_IDS[codec]
  if (b.logAppendTime) attributes |= 0x08
  if (b.transactional) attributes |= 0x10
  if (b.control) attributes |= 0x20
  let records: Buffer = Buffer.concat(b.records.map(encodeRecord))
  if (codec !== 'none') {
    if (!b.compress) throw new Error('compress is required with a codec')
    records = b.compress(records)
  }
  // the part covered by the CRC: attributes .. records
  const crcPart = new ByteWriter()
    .int16(attributes)
    .int32(lastOffsetDelta)
    .int64(b.baseTimestamp)
    .int64(maxTimestamp)
    .int64(b.producerId ?? -1n)
    .int16(b.producerEpoch ?? -1)
    .int32(b.baseSequence ?? -1)
    .int32(b.records.length)
    .raw(records)
    .toBuffer()
  const afterLength = new ByteWriter()
    .int32(b.partitionLeaderEpoch ?? 0)
    .int8(b.magic ?? 2)
    .uint32(crc32c(crcPart))
    .raw(crcPart)
    .toBuffer()
  return new ByteWriter().int64(b.baseOffset).int32(afterLength.length).raw(afterLength).toBuffer()
}

/** The records of a control batch (transaction marker): key = version int16 0 + type int16; value = version int16 + coordinator epoch int32. */
export function controlRecord(type: 'abort' | 'commit', coordinatorEpoch = 0): TestRecord {
  const key = new ByteWriter().int16(0).int16(type === 'abort' ? 0 : 1).toBuffer()
  const value = new ByteWriter().int16(0).int32(coordinatorEpoch).toBuffer()
  return { offsetDelta: 0, key, value }
}

export interface TestPartition {
  partition: number
  errorCode?: number
  highWatermark: number
  lastStableOffset?: number
  logStartOffset?: number
  abortedTransactions?: Array<{ producerId: bigint; firstOffset: number }> | null
  preferredReadReplica?: number
  /** the records bytes (concatenated batches); null → length -1 */
  records: Buffer | null
}

export interface TestFetchResponse {
  throttleTimeMs?: number
  errorCode?: number
  sessionId?: number
  topics: Array<{ topic: string; partitions: TestPartition[] }>
}

/** Encodes a Fetch response body (after the correlation id) for `version` 4–11. */
export function encodeFetchResponse(r: TestFetchResponse, version: number): Buffer {
  const w = new ByteWriter().int32(r.throttleTimeMs ?? 0)
  if (version >= 7) w.int16(r.errorCode ?? 0).int32(r.sessionId ?? 0)
  w.int32(r.topics.length)
  for (const t of r.topics) {
    w.string(t.topic).int32(t.partitions.length)
    for (const p of t.partitions) {
      w.int32(p.partition).int16(p.errorCode ?? 0).int64(p.highWatermark).int64(p.lastStableOffset ?? -1)
      if (version >= 5) w.int64(p.logStartOffset ?? -1)
      const aborted = p.abortedTransactions === undefined ? [] : p.abortedTransactions
      if (aborted === null) w.int32(-1)
      else {
        w.int32(aborted.length)
        for (const a of aborted) w.int64(a.producerId).int64(a.firstOffset)
      }
      if (version >= 11) w.int32(p.preferredReadReplica ?? -1)
      if (p.records === null) w.int32(-1)
      else w.int32(p.records.length).raw(p.records)
    }
  }
  return w.toBuffer()
}
