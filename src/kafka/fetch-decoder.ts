/**
 * Decoder for Kafka Fetch responses, versions 4–11 (the non-flexible ones), and the record batches
 * (magic v2) inside them. The fetch transport (src/kafka/kafkajs/transport.ts) sends the Fetch request; its response bytes come here.
 *
 * Why not kafkajs's decoder: it folds headers into an object (order lost, duplicates turned into
 * arrays, integer-like keys reordered), copies objects per header and does Long arithmetic per
 * record. This one keeps headers as an ordered list and walks the bytes with a hand-written cursor.
 *
 * Numbers: offsets and timestamps are JS numbers (exact below 2^53), timestamps in epoch ms,
 * producer ids bigint. Key, value and header-value Buffers are views (`subarray`) into the
 * response buffer, or into the decompressed buffer for a compressed batch: no copies, so they keep
 * the whole response alive; copy what you keep for long.
 *
 * A batch's records may start below the offset asked for (the broker returns whole batches, and
 * compressed batches can only be returned whole): callers filter by offset.
 *
 * Pure functions; the only dependency is the compression codecs.
 */
import { decompress, type CompressionCodec } from '../codec/compression.ts'

/** A decoded Fetch response (v4–v11). */
export interface FetchResponse {
  /** Throttle time the broker asks for, in ms (0 when not throttled). */
  throttleTimeMs: number
  /** Top-level error code (v7+, fetch sessions); 0 before v7. */
  errorCode: number
  /** Fetch session id (v7+); 0 before v7 or without a session. */
  sessionId?: number
  /** Every partition of every topic, in response order. */
  partitions: FetchPartition[]
}

/** One partition of a Fetch response with its decoded record batches. */
export interface FetchPartition {
  topic: string
  partition: number
  /** Kafka error code for this partition (0 = none; e.g. 1 OFFSET_OUT_OF_RANGE, 6 NOT_LEADER_OR_FOLLOWER). */
  errorCode: number
  /** Offset of the next record to be written (the end for read_uncommitted). */
  highWatermark: number
  /** Last stable offset: the end for read_committed (-1 when unknown). */
  lastStableOffset: number
  /** First offset still in the log (v5+; -1 for v4 or when unknown). */
  logStartOffset: number
  /** Aborted transactions overlapping the returned data (read_committed only; empty otherwise). */
  abortedTransactions: Array<{ producerId: bigint; firstOffset: number }>
  /** Preferred read replica broker id (v11+; -1 when none / before v11). */
  preferredReadReplica?: number
  /** Complete record batches in log order (a trailing partial batch is dropped). */
  batches: RecordBatch[]
  /** set when a batch could not be decoded (bad CRC is NOT checked; unknown magic, unsupported codec, truncated data other than the normal trailing partial batch); batches before it are kept, decoding stops there */
  error?: string
}

/** A record batch (magic v2). */
export interface RecordBatch {
  /** Offset of the first record of the batch. */
  baseOffset: number
  /** baseOffset + lastOffsetDelta: the batch's last offset (records may have been compacted away). */
  lastOffset: number
  /** CreateTime of the first record, epoch ms (for LogAppendTime batches, as written by the producer). */
  baseTimestamp: number
  /** Largest timestamp in the batch, epoch ms (the broker's append time for LogAppendTime). */
  maxTimestamp: number
  timestampType: 'CreateTime' | 'LogAppendTime'
  /** -1n when not idempotent/transactional. */
  producerId: bigint
  producerEpoch: number
  isTransactional: boolean
  /** A control batch (transaction marker); its records are not user data. */
  isControl: boolean
  /** For a control batch: the marker's type, from the control record key (int16 version, int16 type). */
  controlType?: 'abort' | 'commit'
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  records: BatchRecord[]
  /**
   * Only with {@link DecodeOptions.needles}: set when none of the needles occurs anywhere in the
   * batch's (decompressed) record bytes. Its records were walked and are well-formed, but not
   * materialised: `records` is empty, `count` says how many there are and `records()` builds them
   * (e.g. for a batch that straddles the start or end of a range).
   */
  unmatched?: { count: number; records(): BatchRecord[] }
  /**
   * Only with {@link DecodeOptions.deferRecords} (and not `unmatched`): the records were walked and
   * are well-formed, `records` is empty and `records()` builds them when they are wanted.
   */
  deferred?: { count: number; records(): BatchRecord[] }
  /** Bytes of the batch on the wire (12-byte offset/length prefix + batchLength, compressed). */
  sizeBytes: number
}

/** Options of {@link decodeFetchResponse}. */
export interface DecodeOptions {
  /**
   * Byte strings searched for (e.g. a correlation id): a non-control batch whose record bytes
   * contain none of them is returned with `unmatched` instead of its records. A record that contains
   * a needle in its key, value or a header is always in a batch whose bytes contain it, so nothing
   * that could match is left out; a byte search per batch is much cheaper than a record object per
   * record.
   */
  needles?: Buffer[]
  /**
   * Check every record now (errors are reported exactly as without this option) but build the
   * record objects only when `deferred.records()` is called: a reader that hands out one partition
   * at a time then holds the objects of one partition, not of a whole response (and its prefetch).
   */
  deferRecords?: boolean
}

/** One record of a batch. */
export interface BatchRecord {
  offset: number
  /** Epoch ms: baseTimestamp + timestampDelta, or maxTimestamp for LogAppendTime batches. */
  timestamp: number
  /** null when the key is absent. */
  key: Buffer | null
  /** null for a tombstone (not the same as an empty Buffer). */
  value: Buffer | null
  /** Order kept, duplicates kept, null values kept. Keys are UTF-8. */
  headers: Array<{ key: string; value: Buffer | null }>
  /** Encoded record length in bytes, including its length varint (uncompressed). */
  sizeBytes: number
}

const TWO_32 = 4294967296
/** Bytes of a v2 batch header after baseOffset+batchLength: epoch..recordsCount. */
const BATCH_HEADER_AFTER_LENGTH = 49
/** Offset of the first record from the batch start. */
const RECORDS_START = 61
const CODECS: ReadonlyArray<RecordBatch['compression']> = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

class MalformedResponse extends Error {}

/** Signed int64 at `p` as a JS number (exact for |v| < 2^53). */
function int64(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4)
}

/**
 * Decodes a Fetch response body: the bytes after the correlation id, i.e. what kafkajs passes to a
 * request's `response.decode(rawData)`.
 * @param apiVersion the Fetch version the request was sent with (4–11).
 * @throws Error when the response itself (not a record batch) is malformed or truncated, or the
 *   version is not supported. Record batch problems are reported in `FetchPartition.error`.
 */
export function decodeFetchResponse(buf: Buffer, apiVersion: number, options: DecodeOptions = {}): FetchResponse {
  if (!Number.isInteger(apiVersion) || apiVersion < 4 || apiVersion > 11) {
    throw new RangeError(`Fetch response v${apiVersion} is not supported (v4 to v11 are)`)
  }
  try {
    return decodeResponse(buf, apiVersion, options)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (e instanceof MalformedResponse || (e instanceof RangeError && (code === 'ERR_OUT_OF_RANGE' || code === 'ERR_BUFFER_OUT_OF_BOUNDS'))) {
      throw new Error(`malformed Fetch v${apiVersion} response (${buf.length} bytes): ${e.message}`, { cause: e })
    }
    throw e
  }
}

function decodeResponse(buf: Buffer, v: number, options: DecodeOptions): FetchResponse {
  let p = 0
  const throttleTimeMs = buf.readInt32BE(p)
  p += 4
  let errorCode = 0
  let sessionId = 0
  if (v >= 7) {
    errorCode = buf.readInt16BE(p)
    sessionId = buf.readInt32BE(p + 2)
    p += 6
  }
  const partitions: FetchPartition[] = []
  const topicCount = buf.readInt32BE(p)
  p += 4
  for (let t = 0; t < topicCount; t++) {
    const nameLength = buf.readInt16BE(p)
    p += 2
    if (nameLength < 0 || p + nameLength > buf.length) throw new MalformedResponse(`bad topic name length ${nameLength} at byte ${p - 2}`)
    const topic = buf.toString('utf8', p, p + nameLength)
    p += nameLength
    const partitionCount = buf.readInt32BE(p)
    p += 4
    for (let i = 0; i < partitionCount; i++) {
      const partition = buf.readInt32BE(p)
      const partErrorCode = buf.readInt16BE(p + 4)
      const highWatermark = int64(buf, p + 6)
      const lastStableOffset = int64(buf, p + 14)
      p += 22
      let logStartOffset = -1
      if (v >= 5) {
        logStartOffset = int64(buf, p)
        p += 8
      }
      const abortedCount = buf.readInt32BE(p)
      p += 4
      const abortedTransactions: FetchPartition['abortedTransactions'] = []
      if (abortedCount > 0) {
        if (p + abortedCount * 16 > buf.length) throw new MalformedResponse(`${abortedCount} aborted transactions run past the end`)
        for (let a = 0; a < abortedCount; a++) {
          abortedTransactions.push({ producerId: buf.readBigInt64BE(p), firstOffset: int64(buf, p + 8) })
          p += 16
        }
      }
      let preferredReadReplica = -1
      if (v >= 11) {
        preferredReadReplica = buf.readInt32BE(p)
        p += 4
      }
      const recordsLength = buf.readInt32BE(p)
      p += 4
      const part: FetchPartition = {
        topic,
        partition,
        errorCode: partErrorCode,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        abortedTransactions,
        preferredReadReplica,
        batches: [],
      }
      if (recordsLength > 0) {
        const end = p + recordsLength
        if (end > buf.length) throw new MalformedResponse(`records of ${topic}/${partition} (${recordsLength} bytes at byte ${p}) run past the end`)
        const error = decodeBatches(buf, p, end, part.batches, options)
        if (error !== undefined) part.error = error
        p = end
      }
      partitions.push(part)
    }
  }
  return { throttleTimeMs, errorCode, sessionId, partitions }
}

/**
 * Decodes the record batches in buf[start, end) into `out`.
 * @returns an error message when a batch cannot be decoded (decoding stops there), else undefined.
 */
function decodeBatches(buf: Buffer, start: number, end: number, out: RecordBatch[], options: DecodeOptions): string | undefined {
  let p = start
  // 17 bytes: baseOffset, batchLength, partitionLeaderEpoch, magic. Fewer: a trailing partial batch.
  while (end - p >= 17) {
    const magic = buf[p + 16]
    if (magic !== 2) {
      const at = int64(buf, p)
      return magic === 0 || magic === 1
        ? `legacy message format (magic v${magic}) at offset ${at} is not supported: only record batches (magic v2, Kafka ≥ 0.11) are`
        : `unknown record batch magic ${magic} at offset ${at}`
    }
    const batchLength = buf.readInt32BE(p + 8)
    if (batchLength < BATCH_HEADER_AFTER_LENGTH) return `invalid record batch length ${batchLength} at offset ${int64(buf, p)}`
    const batchEnd = p + 12 + batchLength
    if (batchEnd > end) return undefined // the broker cut the last batch at maxBytes: normal
    const error = decodeBatch(buf, p, batchEnd, out, options)
    if (error !== undefined) return error
    p = batchEnd
  }
  return undefined
}

/** Decodes one complete v2 batch buf[p, batchEnd) and pushes it to `out`; returns an error message instead on failure. */
function decodeBatch(buf: Buffer, p: number, batchEnd: number, out: RecordBatch[], options: DecodeOptions): string | undefined {
  const baseOffset = int64(buf, p)
  const attributes = buf.readInt16BE(p + 21)
  const lastOffsetDelta = buf.readInt32BE(p + 23)
  const baseTimestamp = int64(buf, p + 27)
  const maxTimestamp = int64(buf, p + 35)
  const producerId = buf.readBigInt64BE(p + 43)
  const producerEpoch = buf.readInt16BE(p + 51)
  const count = buf.readInt32BE(p + 57)
  const codecId = attributes & 0x07
  const logAppendTime = (attributes & 0x08) !== 0
  const isControl = (attributes & 0x20) !== 0
  if (codecId >= CODECS.length) return `record batch at offset ${baseOffset}: unsupported compression codec id ${codecId}`
  const compression = CODECS[codecId]

  let data = buf
  let dp = p + RECORDS_START
  let dEnd = batchEnd
  if (codecId !== 0) {
    try {
      data = decompress(compression as CompressionCodec, buf.subarray(dp, batchEnd))
    } catch (e) {
      return `record batch at offset ${baseOffset}: ${e instanceof Error ? e.message : String(e)}`
    }
    dp = 0
    dEnd = data.length
  }
  if (count < 0 || count > dEnd - dp) return `record batch at offset ${baseOffset}: invalid record count ${count} for ${dEnd - dp} bytes of records`

  const records: BatchRecord[] = []
  // with needles: a batch without any of them is only walked (same checks, no objects);
  // deferred: walked now, built later (control batches are always built: their key is read below)
  const skip = options.needles !== undefined && !isControl && !containsNeedle(data, dp, dEnd, options.needles)
  const defer = !skip && !isControl && options.deferRecords === true
  const recordsOrError = decodeRecords(data, dp, dEnd, count, baseOffset, baseTimestamp, logAppendTime, maxTimestamp, skip || defer ? null : records)
  if (recordsOrError !== undefined) return `record batch at offset ${baseOffset}: ${recordsOrError}`

  const batch: RecordBatch = {
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    timestampType: logAppendTime ? 'LogAppendTime' : 'CreateTime',
    producerId,
    producerEpoch,
    isTransactional: (attributes & 0x10) !== 0,
    isControl,
    compression,
    records,
    sizeBytes: batchEnd - p,
  }
  if (skip || defer) {
    const from = dp
    const later = {
      count,
      records: () => {
        const all: BatchRecord[] = []
        decodeRecords(data, from, dEnd, count, baseOffset, baseTimestamp, logAppendTime, maxTimestamp, all)
        return all
      },
    }
    if (skip) batch.unmatched = later
    else batch.deferred = later
  }
  if (isControl && records.length > 0) {
    const key = records[0].key
    if (key !== null && key.length >= 4) {
      const type = key.readInt16BE(2)
      if (type === 0) batch.controlType = 'abort'
      else if (type === 1) batch.controlType = 'commit'
    }
  }
  out.push(batch)
  return undefined
}

/** Whether any needle occurs in d[start, end). */
function containsNeedle(d: Buffer, start: number, end: number, needles: Buffer[]): boolean {
  const region = d.subarray(start, end)
  for (const n of needles) if (region.indexOf(n) !== -1) return true
  return false
}

/**
 * The record loop: the hot path. Varints are decoded inline (zigzag int32: up to 5 bytes; the
 * timestamp delta is a zigzag varlong: up to 10 bytes, exact for |delta| < 2^53).
 * @param logAppendTime for LogAppendTime batches every record's timestamp is `maxTimestamp`.
 * @param out where the records go; null: only walk and check them (no objects, no strings).
 * @returns an error message when a record is truncated or malformed, else undefined.
 */
function decodeRecords(
  d: Buffer,
  p: number,
  end: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: boolean,
  maxTimestamp: number,
  out: BatchRecord[] | null,
): string | undefined {
  // Header keys repeat from record to record (same keys, same order): remember, per header index,
  // where the last key was and its string, and reuse the string when the bytes are equal.
  const keyPos: number[] = []
  const keyLen: number[] = []
  const keyStr: string[] = []
  for (let n = 0; n < count; n++) {
    const recStart = p
    if (p >= end) return `record ${n} of ${count} is missing (records end at byte ${end})`
    // length: zigzag varint
    let b = d[p++]
    let u = b & 0x7f
    if (b > 0x7f) {
      b = d[p++]; u |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 21
          if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad length varint` }
        }
      }
    }
    const length = (u >>> 1) ^ -(u & 1)
    const recEnd = p + length
    if (length <= 0 || recEnd > end) return `record ${n} of ${count} is truncated (length ${length}, ${end - p} bytes left)`
    p++ // attributes (unused)

    // timestampDelta: zigzag varlong. lo = first 28 bits, hi = the bits above (as a number).
    b = d[p++]
    let lo = b & 0x7f
    let hi = 0
    if (b > 0x7f) {
      b = d[p++]; lo |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; lo |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; lo |= (b & 0x7f) << 21
          if (b > 0x7f) {
            let mul = 1
            let i = 4
            do {
              if (i === 10) return `record ${n}: bad timestamp varlong`
              b = d[p++]
              hi += (b & 0x7f) * mul
              mul *= 128
              i++
            } while (b > 0x7f)
          }
        }
      }
    }
    // zigzag: (raw >>> 1) ^ -(raw & 1) with raw = hi * 2^28 + lo
    const half = hi * 134217728 + (lo >>> 1)
    const timestampDelta = (lo & 1) === 0 ? half : -half - 1

    // offsetDelta
    b = d[p++]
    u = b & 0x7f
    if (b > 0x7f) {
      b = d[p++]; u |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 21
          if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad offset delta varint` }
        }
      }
    }
    const offsetDelta = (u >>> 1) ^ -(u & 1)

    // key
    b = d[p++]
    u = b & 0x7f
    if (b > 0x7f) {
      b = d[p++]; u |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 21
          if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad key length varint` }
        }
      }
    }
    let len = (u >>> 1) ^ -(u & 1)
    let key: Buffer | null = null
    if (len >= 0) {
      if (p + len > recEnd) return `record ${n}: key (${len} bytes) runs past the record end`
      if (out !== null) key = d.subarray(p, p + len)
      p += len
    } else if (len !== -1) return `record ${n}: bad key length ${len}`

    // value
    b = d[p++]
    u = b & 0x7f
    if (b > 0x7f) {
      b = d[p++]; u |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 21
          if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad value length varint` }
        }
      }
    }
    len = (u >>> 1) ^ -(u & 1)
    let value: Buffer | null = null
    if (len >= 0) {
      if (p + len > recEnd) return `record ${n}: value (${len} bytes) runs past the record end`
      if (out !== null) value = d.subarray(p, p + len)
      p += len
    } else if (len !== -1) return `record ${n}: bad value length ${len}`

    // headers
    b = d[p++]
    u = b & 0x7f
    if (b > 0x7f) {
      b = d[p++]; u |= (b & 0x7f) << 7
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 14
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 21
          if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad header count varint` }
        }
      }
    }
    const headerCount = (u >>> 1) ^ -(u & 1)
    if (headerCount < 0 || headerCount > recEnd - p) return `record ${n}: bad header count ${headerCount}`
    const headers: BatchRecord['headers'] | null = out === null ? null : []
    for (let h = 0; h < headerCount; h++) {
      b = d[p++]
      u = b & 0x7f
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 7
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 14
          if (b > 0x7f) {
            b = d[p++]; u |= (b & 0x7f) << 21
            if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad header key length varint` }
          }
        }
      }
      len = (u >>> 1) ^ -(u & 1)
      if (len < 0 || p + len > recEnd) return `record ${n}: header ${h} key (${len} bytes) runs past the record end`
      let hkey = ''
      if (out === null) {
        // only walking: no strings
      } else if (h < keyStr.length && keyLen[h] === len) {
        const q = keyPos[h]
        let i = 0
        while (i < len && d[q + i] === d[p + i]) i++
        if (i === len) hkey = keyStr[h]
        else {
          hkey = d.toString('utf8', p, p + len)
          keyPos[h] = p
          keyStr[h] = hkey
        }
      } else {
        hkey = d.toString('utf8', p, p + len)
        keyPos[h] = p
        keyLen[h] = len
        keyStr[h] = hkey
      }
      p += len

      b = d[p++]
      u = b & 0x7f
      if (b > 0x7f) {
        b = d[p++]; u |= (b & 0x7f) << 7
        if (b > 0x7f) {
          b = d[p++]; u |= (b & 0x7f) << 14
          if (b > 0x7f) {
            b = d[p++]; u |= (b & 0x7f) << 21
            if (b > 0x7f) { b = d[p++]; u |= b << 28; if (b > 0x0f) return `record ${n}: bad header value length varint` }
          }
        }
      }
      len = (u >>> 1) ^ -(u & 1)
      let hvalue: Buffer | null = null
      if (len >= 0) {
        if (p + len > recEnd) return `record ${n}: header ${h} value (${len} bytes) runs past the record end`
        if (headers !== null) hvalue = d.subarray(p, p + len)
        p += len
      } else if (len !== -1) return `record ${n}: bad header ${h} value length ${len}`
      if (headers !== null) headers.push({ key: hkey, value: hvalue })
    }
    if (p > recEnd) return `record ${n}: fields run past the record end`
    p = recEnd // skip anything a later record version may add

    if (out === null) continue
    out.push({
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers: headers!,
      sizeBytes: recEnd - recStart,
    })
  }
  return undefined
}
