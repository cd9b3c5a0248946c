import { createRequire } from 'node:module'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import kafkajs from 'kafkajs'
import { compressFrameSync } from 'lz4-napi'
import { compressSync as snappyRaw } from 'snappy'
import { describe, expect, it } from 'vitest'
import { registerKafkajsCodecs } from '../../src/kafka/kafkajs/codecs.ts'
import { decodeFetchResponse, type FetchPartition } from '../../src/kafka/fetch-decoder.ts'
import {
  controlRecord,
  encodeBatch,
  encodeFetchResponse,
  encodeRecord,
  type TestBatch,
  type TestRecord,
} from '../support/record-batch-builder.ts'

const require = createRequire(import.meta.url)
const T0 = 1_700_000_000_000

/** One partition (topic "orders", partition 3) holding `records`, decoded with Fetch v`version`. */
function decodeOne(records: Buffer, version = 11): FetchPartition {
  const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 3, highWatermark: 1000, records }] }] }, version)
  const res = decodeFetchResponse(body, version)
  expect(res.partitions).toHaveLength(1)
  return res.partitions[0]
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

const richRecords: TestRecord[] = [
  {
    offsetDelta: 0,
    timestampDelta: 0,
    key: 'order-1',
    value: '{"a":1}',
    headers: [
      { key: 'traceparent', value: '00-aaaa-01' },
      { key: '123', value: 'numeric key' },
      { key: 'retry', value: '1' },
      { key: 'nullable', value: null },
      { key: 'retry', value: '2' },
      { key: 'bin', value: allBytes },
      { key: 'ключ', value: Buffer.alloc(0) },
    ],
  },
  { offsetDelta: 1, timestampDelta: 5, key: null, value: 'no key' },
  { offsetDelta: 2, timestampDelta: 7, key: 'order-1', value: null }, // tombstone
  { offsetDelta: 3, timestampDelta: 9, key: Buffer.alloc(0), value: Buffer.alloc(0) }, // empty, not null
  { offsetDelta: 4, timestampDelta: 11, key: allBytes, value: allBytes },
]

function checkRich(part: FetchPartition, baseOffset: number, logAppendTime = false, maxTimestamp = T0 + 11): void {
  expect(part.error).toBeUndefined()
  expect(part.batches).toHaveLength(1)
  const [batch] = part.batches
  expect(batch.baseOffset).toBe(baseOffset)
  expect(batch.lastOffset).toBe(baseOffset + 4)
  expect(batch.baseTimestamp).toBe(T0)
  expect(batch.maxTimestamp).toBe(maxTimestamp)
  expect(batch.timestampType).toBe(logAppendTime ? 'LogAppendTime' : 'CreateTime')
  const r = batch.records
  expect(r.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4].map((d) => baseOffset + d))
  expect(r.map((x) => x.timestamp)).toEqual(logAppendTime ? [1, 2, 3, 4, 5].map(() => maxTimestamp) : [0, 5, 7, 9, 11].map((d) => T0 + d))
  expect(r[0].key?.toString()).toBe('order-1')
  expect(r[0].value?.toString()).toBe('{"a":1}')
  expect(r[0].headers.map((h) => h.key)).toEqual(['traceparent', '123', 'retry', 'nullable', 'retry', 'bin', 'ключ'])
  expect(r[0].headers.map((h) => (h.value === null ? null : h.key === 'bin' ? h.value.toString('hex') : h.value.toString()))).toEqual([
    '00-aaaa-01',
    'numeric key',
    '1',
    null,
    '2',
    allBytes.toString('hex'),
    '',
  ])
  expect(r[1].key).toBeNull()
  expect(r[1].value?.toString()).toBe('no key')
  expect(r[1].headers).toEqual([])
  expect(r[2].value).toBeNull()
  expect(r[2].key?.toString()).toBe('order-1')
  expect(r[3].key).toEqual(Buffer.alloc(0))
  expect(r[3].value).toEqual(Buffer.alloc(0))
  expect(r[3].value).not.toBeNull()
  expect(r[4].key).toEqual(allBytes)
  expect(r[4].value).toEqual(allBytes)
  for (let i = 0; i < richRecords.length; i++) expect(r[i].sizeBytes).toBe(encodeRecord(richRecords[i]).length)
}

describe('decodeFetchResponse: response framing', () => {
  const batch = encodeBatch({ baseOffset: 10, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'x' }] })

  for (let version = 4; version <= 11; version++) {
    it(`decodes the Fetch v${version} layout`, () => {
      const body = encodeFetchResponse(
        {
          throttleTimeMs: 25,
          errorCode: 0,
          sessionId: 77,
          topics: [
            {
              topic: 'orders',
              partitions: [
                {
                  partition: 0,
                  highWatermark: 11,
                  lastStableOffset: 9,
                  logStartOffset: 2,
                  abortedTransactions: [
                    { producerId: 4000n, firstOffset: 5 },
                    { producerId: 2n ** 40n, firstOffset: 8 },
                  ],
                  preferredReadReplica: 2,
                  records: batch,
                },
                { partition: 1, errorCode: 1, highWatermark: 0, abortedTransactions: null, records: null },
              ],
            },
            { topic: 'payments', partitions: [{ partition: 7, errorCode: 6, highWatermark: 5_000_000_000, records: Buffer.alloc(0) }] },
          ],
        },
        version,
      )
      const res = decodeFetchResponse(body, version)
      expect(res.throttleTimeMs).toBe(25)
      expect(res.errorCode).toBe(0)
      expect(res.sessionId).toBe(version >= 7 ? 77 : 0)
      expect(res.partitions.map((p) => `${p.topic}/${p.partition}`)).toEqual(['orders/0', 'orders/1', 'payments/7'])
      const [a, b, c] = res.partitions
      expect(a).toMatchObject({ errorCode: 0, highWatermark: 11, lastStableOffset: 9, logStartOffset: version >= 5 ? 2 : -1 })
      expect(a.preferredReadReplica).toBe(version >= 11 ? 2 : -1)
      expect(a.abortedTransactions).toEqual([
        { producerId: 4000n, firstOffset: 5 },
        { producerId: 2n ** 40n, firstOffset: 8 },
      ])
      expect(a.batches).toHaveLength(1)
      expect(a.batches[0].records[0]).toMatchObject({ offset: 10, timestamp: T0 })
      expect(a.error).toBeUndefined()
      expect(b).toMatchObject({ errorCode: 1, abortedTransactions: [], batches: [] })
      expect(b.error).toBeUndefined()
      expect(c).toMatchObject({ errorCode: 6, highWatermark: 5_000_000_000, batches: [] })
    })
  }

  it('reads the top-level error code (v7+)', () => {
    const res = decodeFetchResponse(encodeFetchResponse({ errorCode: 70, sessionId: 0, topics: [] }, 7), 7)
    expect(res.errorCode).toBe(70)
    expect(res.partitions).toEqual([])
  })

  it('rejects unsupported versions and malformed responses', () => {
    expect(() => decodeFetchResponse(Buffer.alloc(8), 3)).toThrow(/v3 is not supported/)
    expect(() => decodeFetchResponse(Buffer.alloc(8), 12)).toThrow(/not supported/)
    const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 0, highWatermark: 1, records: batch }] }] }, 11)
    expect(() => decodeFetchResponse(body.subarray(0, body.length - 5), 11)).toThrow(/malformed Fetch v11 response/)
    expect(() => decodeFetchResponse(body.subarray(0, 20), 11)).toThrow(/malformed/)
    expect(() => decodeFetchResponse(Buffer.alloc(2), 4)).toThrow(/malformed Fetch v4 response \(2 bytes\)/)
  })

  it('accepts a body that is a view into a larger buffer (as kafkajs hands it over)', () => {
    const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 0, highWatermark: 11, records: batch }] }] }, 11)
    const big = Buffer.concat([Buffer.from([9, 9, 9, 9, 0, 0, 0, 1]), body, Buffer.from([7, 7, 7])])
    const res = decodeFetchResponse(big.subarray(8, 8 + body.length), 11)
    expect(res.partitions[0].batches[0].records[0].value?.toString()).toBe('x')
  })
})

describe('decodeFetchResponse: record batches', () => {
  it('decodes offsets, timestamps, null/empty keys and values, ordered duplicate and null headers, binary bytes', () => {
    const part = decodeOne(encodeBatch({ baseOffset: 42, baseTimestamp: T0, records: richRecords }))
    checkRich(part, 42)
    const b = part.batches[0]
    expect(b).toMatchObject({ producerId: -1n, producerEpoch: -1, isTransactional: false, isControl: false, compression: 'none' })
    expect(b.controlType).toBeUndefined()
  })

  it('decodes with every Fetch version', () => {
    for (let v = 4; v <= 11; v++) checkRich(decodeOne(encodeBatch({ baseOffset: 42, baseTimestamp: T0, records: richRecords }), v), 42)
  })

  it('uses maxTimestamp for every record of a LogAppendTime batch', () => {
    const part = decodeOne(encodeBatch({ baseOffset: 0, baseTimestamp: T0, maxTimestamp: T0 + 99_000, logAppendTime: true, records: richRecords }))
    checkRich(part, 0, true, T0 + 99_000)
  })

  it('handles offsets above 2^32 and the batch sizes', () => {
    const base = 2 ** 40 + 17
    const bytes = encodeBatch({ baseOffset: base, baseTimestamp: T0, records: richRecords })
    const part = decodeOne(bytes)
    checkRich(part, base)
    expect(part.batches[0].sizeBytes).toBe(bytes.length)
  })

  it('returns key/value/header views into the response buffer, without copies', () => {
    const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 3, highWatermark: 5, records: encodeBatch({ baseOffset: 0, baseTimestamp: T0, records: richRecords }) }] }] }, 11)
    const r = decodeFetchResponse(body, 11).partitions[0].batches[0].records[0]
    expect(r.value!.buffer).toBe(body.buffer)
    expect(r.key!.buffer).toBe(body.buffer)
    expect(r.headers[0].value!.buffer).toBe(body.buffer)
    expect(r.value!.byteOffset).toBe(body.byteOffset + body.indexOf('{"a":1}'))
  })

  it('decodes varlong timestamp deltas beyond 2^31 (and negative ones)', () => {
    const deltas = [2 ** 31 + 5, 2 ** 33, -(2 ** 31) - 3, 2 ** 40 + 1, -1, 2 ** 52 - 1, 127, -64, 63, 8191]
    const records = deltas.map((d, i) => ({ offsetDelta: i, timestampDelta: d, value: `v${i}` }))
    const part = decodeOne(encodeBatch({ baseOffset: 0, baseTimestamp: 1000, maxTimestamp: 1000, records }))
    expect(part.error).toBeUndefined()
    expect(part.batches[0].records.map((r) => r.timestamp)).toEqual(deltas.map((d) => 1000 + d))
  })

  it('decodes a 5 MB value', () => {
    const big = Buffer.alloc(5 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
    const part = decodeOne(encodeBatch({ baseOffset: 7, baseTimestamp: T0, records: [{ offsetDelta: 0, key: 'k', value: big }] }))
    expect(part.error).toBeUndefined()
    const v = part.batches[0].records[0].value!
    expect(v.length).toBe(big.length)
    expect(v.equals(big)).toBe(true)
  })

  it('decodes many batches in order, and a record offset gap (compaction)', () => {
    const batches: TestBatch[] = [
      { baseOffset: 0, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'a' }, { offsetDelta: 1, value: 'b' }] },
      { baseOffset: 2, baseTimestamp: T0 + 10, lastOffsetDelta: 5, records: [{ offsetDelta: 0, value: 'c' }, { offsetDelta: 4, value: 'g' }] },
      { baseOffset: 8, baseTimestamp: T0 + 20, records: [{ offsetDelta: 0, value: 'i' }] },
    ]
    const part = decodeOne(Buffer.concat(batches.map(encodeBatch)))
    expect(part.error).toBeUndefined()
    expect(part.batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual([[0, 1], [2, 7], [8, 8]])
    expect(part.batches.flatMap((b) => b.records.map((r) => `${r.offset}:${r.value}:${r.timestamp - T0}`))).toEqual(['0:a:0', '1:b:0', '2:c:10', '6:g:10', '8:i:20'])
  })

  it('silently drops a trailing partial batch, wherever the broker cut it', () => {
    const first = encodeBatch({ baseOffset: 0, baseTimestamp: T0, records: richRecords })
    const second = encodeBatch({ baseOffset: 5, baseTimestamp: T0, records: richRecords })
    for (const keep of [1, 8, 11, 12, 16, 17, 30, 61, 62, second.length - 1]) {
      const part = decodeOne(Buffer.concat([first, second.subarray(0, keep)]))
      expect(part.error, `cut after ${keep} bytes`).toBeUndefined()
      expect(part.batches).toHaveLength(1)
      expect(part.batches[0].records).toHaveLength(5)
    }
    // only a partial batch: nothing, no error
    const only = decodeOne(second.subarray(0, 40))
    expect(only.batches).toEqual([])
    expect(only.error).toBeUndefined()
  })

  it('decodes transactional batches and abort/commit control batches', () => {
    const pid = 123_456_789_012n
    const bytes = Buffer.concat([
      encodeBatch({ baseOffset: 0, baseTimestamp: T0, transactional: true, producerId: pid, producerEpoch: 3, baseSequence: 0, records: [{ offsetDelta: 0, value: 'a' }, { offsetDelta: 1, value: 'b' }] }),
      encodeBatch({ baseOffset: 2, baseTimestamp: T0 + 1, transactional: true, control: true, producerId: pid, producerEpoch: 3, records: [controlRecord('abort', 5)] }),
      encodeBatch({ baseOffset: 3, baseTimestamp: T0 + 2, transactional: true, producerId: pid, producerEpoch: 4, records: [{ offsetDelta: 0, value: 'c' }] }),
      encodeBatch({ baseOffset: 4, baseTimestamp: T0 + 3, transactional: true, control: true, producerId: pid, producerEpoch: 4, records: [controlRecord('commit', 5)] }),
    ])
    const part = decodeOne(bytes)
    expect(part.error).toBeUndefined()
    expect(part.batches.map((b) => [b.baseOffset, b.isTransactional, b.isControl, b.controlType, b.producerId, b.producerEpoch])).toEqual([
      [0, true, false, undefined, pid, 3],
      [2, true, true, 'abort', pid, 3],
      [3, true, false, undefined, pid, 4],
      [4, true, true, 'commit', pid, 4],
    ])
    expect(part.batches[1].records[0].key).toEqual(Buffer.from([0, 0, 0, 0]))
  })

  describe('compressed batches', () => {
    const xerial = (data: Buffer): Buffer => {
      const header = Buffer.from('82534e415050590000000001000000010000', 'hex').subarray(0, 16)
      const parts: Buffer[] = [header]
      for (let p = 0; p < data.length; p += 100) {
        const c = snappyRaw(data.subarray(p, p + 100))
        const len = Buffer.alloc(4)
        len.writeInt32BE(c.length)
        parts.push(len, c)
      }
      return Buffer.concat(parts)
    }
    const cases: Array<[string, TestBatch['codec'], (b: Buffer) => Buffer]> = [
      ['gzip', 'gzip', (b) => gzipSync(b)],
      ['snappy (raw, librdkafka)', 'snappy', (b) => snappyRaw(b)],
      ['snappy (xerial, Java)', 'snappy', xerial],
      ['lz4 (frame)', 'lz4', (b) => compressFrameSync(b)],
      ['zstd', 'zstd', (b) => zstdCompressSync(b)],
    ]
    for (const [name, codec, compress] of cases) {
      it(name, () => {
        const first = encodeBatch({ baseOffset: 100, baseTimestamp: T0, codec, compress, records: richRecords })
        const second = encodeBatch({ baseOffset: 105, baseTimestamp: T0, codec, compress, records: richRecords })
        const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 3, highWatermark: 110, records: Buffer.concat([first, second.subarray(0, 70)]) }] }] }, 11)
        const part = decodeFetchResponse(body, 11).partitions[0]
        checkRich(part, 100)
        expect(part.batches[0].compression).toBe(codec)
        expect(part.batches[0].sizeBytes).toBe(first.length)
        // views into the decompressed buffer, not into the response
        const v = part.batches[0].records[0].value!
        const inBody = v.buffer === body.buffer && v.byteOffset >= body.byteOffset && v.byteOffset < body.byteOffset + body.length
        expect(inBody).toBe(false)
      })
    }

    it('reports corrupt compressed data as a partition error, keeping earlier batches', () => {
      const good = encodeBatch({ baseOffset: 0, baseTimestamp: T0, records: richRecords })
      const bad = encodeBatch({ baseOffset: 5, baseTimestamp: T0, codec: 'gzip', compress: () => Buffer.from('not gzip at all'), records: richRecords })
      const part = decodeOne(Buffer.concat([good, bad]))
      expect(part.batches).toHaveLength(1)
      expect(part.error).toMatch(/offset 5.*gzip/)
    })
  })

  describe('undecodable data becomes FetchPartition.error, never an exception', () => {
    const good = encodeBatch({ baseOffset: 0, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'ok' }] })

    it('legacy message sets (magic 0 and 1)', () => {
      for (const magic of [0, 1]) {
        const part = decodeOne(Buffer.concat([good, encodeBatch({ baseOffset: 1, baseTimestamp: T0, magic, records: [{ offsetDelta: 0, value: 'x' }] })]))
        expect(part.batches).toHaveLength(1)
        expect(part.error).toMatch(new RegExp(`legacy message format \\(magic v${magic}\\) at offset 1 is not supported`))
      }
    })

    it('unknown magic, unsupported codec id', () => {
      const unknown = decodeOne(encodeBatch({ baseOffset: 3, baseTimestamp: T0, magic: 3, records: [{ offsetDelta: 0 }] }))
      expect(unknown.error).toMatch(/unknown record batch magic 3 at offset 3/)
      const codec = decodeOne(encodeBatch({ baseOffset: 4, baseTimestamp: T0, codecId: 5, records: [{ offsetDelta: 0 }] }))
      expect(codec.error).toMatch(/offset 4: unsupported compression codec id 5/)
      expect(codec.batches).toEqual([])
    })

    it('a record truncated inside a complete batch', () => {
      const bytes = encodeBatch({ baseOffset: 9, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'hello' }, { offsetDelta: 1, value: 'world' }] })
      // shrink the batch: drop the last 3 bytes and fix batchLength so the batch looks complete
      const cut = Buffer.from(bytes.subarray(0, bytes.length - 3))
      cut.writeInt32BE(cut.length - 12, 8)
      const part = decodeOne(Buffer.concat([good, cut]))
      expect(part.batches).toHaveLength(1)
      expect(part.error).toMatch(/offset 9: record 1 of 2 is truncated/)
    })

    it('a record count larger than the records present', () => {
      const bytes = Buffer.from(encodeBatch({ baseOffset: 9, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'hello' }] }))
      bytes.writeInt32BE(2, 57)
      expect(decodeOne(bytes).error).toMatch(/offset 9: record 1 of 2 is missing/)
    })

    it('a batch length too small for a batch header', () => {
      const bytes = Buffer.from(good)
      bytes.writeInt32BE(10, 8)
      expect(decodeOne(bytes).error).toMatch(/invalid record batch length 10/)
    })
  })
})

describe('cross-check with kafkajs’s own record batch encoder', () => {
  type KafkajsRecordBatch = (o: Record<string, unknown>) => Promise<Buffer | { buffer: Buffer }>
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: KafkajsRecordBatch }
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: Record<string, unknown>) => unknown
  const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: number) => unknown }

  async function kafkajsBatch(compression: number): Promise<Buffer> {
    const records = [
      Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { a: '1', b: ['x', 'y'] } }),
      Record({ offsetDelta: 1, timestampDelta: 250, key: null, value: null, headers: {} }),
      Record({ offsetDelta: 2, timestampDelta: 3_000_000_000, key: Buffer.from('k3'), value: Buffer.alloc(0), headers: { bin: allBytes } }),
    ]
    const encoder = await RecordBatch({
      compression,
      firstOffset: Long.fromValue(5_000_000_123),
      firstTimestamp: T0,
      maxTimestamp: T0 + 3_000_000_000,
      lastOffsetDelta: 2,
      transactional: true,
      producerId: Long.fromValue(77),
      producerEpoch: 2,
      records,
    })
    return Buffer.isBuffer(encoder) ? encoder : encoder.buffer
  }

  registerKafkajsCodecs(kafkajs)
  const { CompressionTypes } = kafkajs
  for (const [name, type] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const) {
    it(`decodes a kafkajs-encoded batch (${name})`, async () => {
      const part = decodeOne(await kafkajsBatch(type))
      expect(part.error).toBeUndefined()
      expect(part.batches).toHaveLength(1)
      const b = part.batches[0]
      expect(b).toMatchObject({ baseOffset: 5_000_000_123, lastOffset: 5_000_000_125, baseTimestamp: T0, isTransactional: true, producerId: 77n, producerEpoch: 2, compression: name })
      expect(b.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
        [5_000_000_123, T0, 'k1', 'v1'],
        [5_000_000_124, T0 + 250, null, null],
        [5_000_000_125, T0 + 3_000_000_000, 'k3', ''],
      ])
      expect(b.records[0].headers.map((h) => [h.key, h.value?.toString()])).toEqual([
        ['a', '1'],
        ['b', 'x'],
        ['b', 'y'],
      ])
      expect(b.records[2].headers[0].value).toEqual(allBytes)
    })
  }
})
