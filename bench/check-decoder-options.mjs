#!/usr/bin/env node
// Differential check of the fetch decoder's speed options (src/kafka/fetch-decoder.ts) against its
// plain decode, on random record batches (all codecs, headers, nulls, control batches) with random
// corruption: `deferRecords` must give the same batches, records and errors once the deferred
// records are built; `needles` must only leave out batches in which no record contains a needle.
// Imports the TypeScript sources directly (Node ≥ 22.18 strips types).
//
//   node bench/check-decoder-options.mjs [iterations]     (default 3000; exits 1 on a mismatch)
import { isDeepStrictEqual } from 'node:util'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import { compressFrameSync } from 'lz4-napi'
import { compressSync as snappyRaw } from 'snappy'
import { decodeFetchResponse } from '../src/kafka/fetch-decoder.ts'
import { controlRecord, encodeBatch, encodeFetchResponse } from '../test/support/record-batch-builder.ts'

const iterations = Number(process.argv[2] ?? 3000)
let seed = 4242
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const int = (n) => (rand() * n) | 0
const pick = (xs) => xs[int(xs.length)]
const WORDS = ['req_7f3a', 'order-1', 'évt', '{"a":1}', 'corr', 'x', '', 'req_7f3a9c0e', 'payload']
const bytes = () => (rand() < 0.15 ? null : rand() < 0.5 ? Buffer.from(Array.from({ length: int(5) }, () => pick(WORDS)).join(pick(['', '-', ' ']))) : Buffer.from(Array.from({ length: int(40) }, () => int(256))))

const CODECS = [['none'], ['none'], ['gzip', (b) => gzipSync(b)], ['snappy', (b) => snappyRaw(b)], ['lz4', (b) => compressFrameSync(b)], ['zstd', (b) => zstdCompressSync(b)]]

function randomBatch(baseOffset) {
  const n = 1 + int(6)
  const records = Array.from({ length: n }, (_, i) => ({
    offsetDelta: i * (1 + int(2)),
    timestampDelta: int(1000),
    key: bytes(),
    value: bytes(),
    headers: Array.from({ length: int(3) }, () => ({ key: pick(['trace', 'id', 'ключ', '']), value: bytes() })),
  }))
  const control = rand() < 0.1
  const [codec, compress] = pick(CODECS)
  return encodeBatch({
    baseOffset,
    baseTimestamp: 1_700_000_000_000,
    records: control ? [controlRecord(pick(['abort', 'commit']))] : records,
    codec,
    compress,
    transactional: control || rand() < 0.2,
    control,
    producerId: 7n,
  })
}

function corrupt(buf) {
  const b = Buffer.from(buf)
  const r = rand()
  if (r < 0.5) return b.subarray(0, int(b.length + 1)) // truncated
  for (let k = 0; k < 1 + int(3); k++) b[61 + int(Math.max(1, b.length - 61))] = int(256) // flipped record bytes
  return b
}

const contains = (buf, n) => buf !== null && buf.indexOf(n) !== -1
const recordHas = (r, n) => contains(r.value, n) || contains(r.key, n) || r.headers.some((h) => contains(h.value, n))
const headerOf = (b) => ({ ...b, records: undefined, deferred: undefined, unmatched: undefined })
const fail = (msg, extra) => {
  console.error(`MISMATCH: ${msg}`, extra ?? '')
  process.exit(1)
}

let batches = 0
const codecs = {}
let skipped = 0
let errors = 0
for (let it = 0; it < iterations; it++) {
  let offset = int(1000)
  const parts = []
  for (let k = 0; k < 1 + int(4); k++) {
    const batch = randomBatch(offset)
    offset += 20
    parts.push(rand() < 0.15 ? corrupt(batch) : batch)
  }
  const records = Buffer.concat(parts)
  const body = encodeFetchResponse({ topics: [{ topic: 't', partitions: [{ partition: 0, highWatermark: offset, records }] }] }, 11)
  const plain = decodeFetchResponse(body, 11).partitions[0]
  const deferred = decodeFetchResponse(body, 11, { deferRecords: true }).partitions[0]
  const needle = Buffer.from(pick(['req_7f3a', 'order-1', 'zz-not-there', 'évt', 'x']))
  const searched = decodeFetchResponse(body, 11, { needles: [needle], deferRecords: rand() < 0.5 }).partitions[0]
  if (plain.error !== deferred.error || plain.error !== searched.error) fail('errors differ', [plain.error, deferred.error, searched.error])
  if (plain.error) errors++
  if (plain.batches.length !== deferred.batches.length || plain.batches.length !== searched.batches.length) fail('batch counts differ')
  plain.batches.forEach((b, i) => {
    batches++
    codecs[b.compression] = (codecs[b.compression] ?? 0) + 1
    const d = deferred.batches[i]
    const s = searched.batches[i]
    if (!isDeepStrictEqual(headerOf(b), headerOf(d)) || !isDeepStrictEqual(headerOf(b), headerOf(s))) fail('batch headers differ', { b: headerOf(b), d: headerOf(d) })
    const dRecords = d.deferred ? d.deferred.records() : d.records
    if (!isDeepStrictEqual(b.records, dRecords)) fail('deferred records differ')
    if (d.deferred && (d.records.length !== 0 || d.deferred.count !== b.records.length)) fail('deferred count')
    if (s.unmatched) {
      skipped++
      if (b.records.some((r) => recordHas(r, needle))) fail('a batch with a matching record was left out', needle.toString())
      if (s.unmatched.count !== b.records.length || !isDeepStrictEqual(s.unmatched.records(), b.records)) fail('unmatched count/records')
    } else {
      const sRecords = s.deferred ? s.deferred.records() : s.records
      if (!isDeepStrictEqual(b.records, sRecords)) fail('searched records differ')
    }
  })
}
console.log(`deferRecords and needles agree with the plain decode: ${iterations} responses, ${batches} batches (${skipped} left out by the needle search), ${errors} with decode errors; codecs ${JSON.stringify(codecs)}`)
