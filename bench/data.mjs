#!/usr/bin/env node
// Benchmark data for bench/run.mjs: seed-envelope JSON records (~300 bytes) produced with kcat -P
// into topics named bench.*, created once and reused while they still hold exactly what we wrote.
//
//   node bench/data.mjs [--quick | --large] [--brokers 127.0.0.1:9092]    create (or check) the data sets
//   (--large adds the 10 M-record set, ~3 GB on the broker)
//
// Plain Node ESM: Node built-ins, kafkajs (admin only) and the kcat binary.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { dropTimeoutNegativeWarning } from '../bin/quiet-warnings.js'

const { Kafka, logLevel } = kafkajs

export const PARTITIONS = 6
/** The correlation id the trace scenario looks for: 8 records, 2 in each trace topic. */
export const TRACE_ID = 'req_7f3a9c0e5b1d2468'
/** Records older than this are outside `trace --since 30d`: recreate the data before that. */
const MAX_AGE_MS = 25 * 24 * 3600 * 1000

/** The data sets, by name. `topics` × `perTopic` records; trace sets carry TRACE_ID 8 times. */
export const DATASETS = {
  'tail-250k': { topics: ['bench.v1.tail.250k'], perTopic: 250_000 },
  'tail-1m': { topics: ['bench.v1.tail.1m'], perTopic: 1_000_000 },
  'trace-250k': { topics: ['a', 'b', 'c', 'd'].map((t) => `bench.v1.trace.250k.${t}`), perTopic: 62_500, trace: true },
  'trace-1m': { topics: ['a', 'b', 'c', 'd'].map((t) => `bench.v1.trace.1m.${t}`), perTopic: 250_000, trace: true },
  // ~3 GB on the broker; made only when a scenario asks for it (bench/index.mjs --set trace-10m)
  'trace-10m': { topics: ['a', 'b', 'c', 'd'].map((t) => `bench.v1.trace.10m.${t}`), perTopic: 2_500_000, trace: true, large: true },
}

// ---------------------------------------------------------------------------------------------
// Record generation. Change DATA_VERSION (in the topic names) when the bytes change, so old data is not reused. (deterministic: a seeded PRNG, so every machine gets the same bytes)

function prng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HEX = '0123456789abcdef'
/** `prefix` + 16 random hex digits, e.g. evt_3f9a… (ids of this shape keep the record near 300 bytes). */
function id(rand, prefix) {
  let s = prefix
  for (let i = 0; i < 16; i++) s += HEX[(rand() * 16) | 0]
  return s
}

const TYPES = [
  ['OrderPlaced', 'Order', 'orders'],
  ['PaymentCaptured', 'Payment', 'payments'],
  ['StockReserved', 'Inventory', 'inventory'],
  ['ShipmentCreated', 'Shipment', 'shipping'],
]
const BASE_TIME = Date.parse('2026-11-29T10:00:00.000Z')

/**
 * One record as a kcat -P line: `key \t value \n`. The value is a seed envelope of about 300 bytes;
 * the key is its aggregate id.
 */
function recordLine(rand, i, topicIndex, correlationId, causationId) {
  const [type, aggregateType, service] = TYPES[topicIndex % TYPES.length]
  const aggregateId = `${aggregateType.toLowerCase()}-${String((rand() * 1e7) | 0).padStart(7, '0')}`
  const value = {
    event_id: id(rand, 'evt_'),
    event_type: type,
    event_version: 1,
    occurred_at: new Date(BASE_TIME + i * 7).toISOString(),
    aggregate_id: aggregateId,
    aggregate_type: aggregateType,
    data: { amount_cents: (rand() * 1e6) | 0 },
    metadata: { correlation_id: correlationId ?? id(rand, 'req_'), causation_id: causationId ?? id(rand, 'evt_'), published_by: service },
  }
  return `${aggregateId}\t${JSON.stringify(value)}\n`
}

/** Which record indexes of a trace topic carry TRACE_ID: two, spread out. */
function traceHits(perTopic, topicIndex) {
  return [Math.floor(perTopic * (0.2 + 0.1 * topicIndex)), Math.floor(perTopic * (0.6 + 0.1 * topicIndex))]
}

/** Produces `count` lines into `topic` through kcat -P (big batches, no compression). */
async function produce(brokers, topic, count, topicIndex, withTrace) {
  const rand = prng(0x5eed + topicIndex * 7919 + count)
  const hits = withTrace ? traceHits(count, topicIndex) : []
  const kcat = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-z', 'none',
    '-X', 'linger.ms=50', '-X', 'batch.num.messages=10000', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.messages=500000',
    '-X', 'acks=1'], { stdio: ['pipe', 'inherit', 'inherit'] })
  const exited = once(kcat, 'exit')
  let prevEventId = null
  for (let i = 0; i < count; i += 1000) {
    let chunk = ''
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const hit = hits.indexOf(j)
      if (hit === -1) chunk += recordLine(rand, j, topicIndex, null, null)
      else {
        // the request's hops: causation = the previous hop's event id (chain over all 8)
        const line = recordLine(rand, j, topicIndex, TRACE_ID, prevEventId ?? TRACE_ID)
        prevEventId = JSON.parse(line.split('\t')[1]).event_id
        chunk += line
      }
    }
    if (!kcat.stdin.write(chunk)) await once(kcat.stdin, 'drain')
  }
  kcat.stdin.end()
  const [code] = await exited
  if (code !== 0) throw new Error(`kcat -P into ${topic} exited with ${code}`)
}

// ---------------------------------------------------------------------------------------------
// Checking and creating

export function admin(brokers) {
  return new Kafka({ clientId: 'evt-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
}

/** Records in a topic (sum of high − low watermarks), oldest timestamp check; null if missing. */
async function inspect(adm, topic) {
  const topics = await adm.listTopics()
  if (!topics.includes(topic)) return null
  const offsets = await adm.fetchTopicOffsets(topic)
  const count = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const byTime = await adm.fetchTopicOffsetsByTimestamp(topic, Date.now() - MAX_AGE_MS)
  const stale = byTime.some((p) => {
    const o = offsets.find((q) => q.partition === p.partition)
    return Number(p.offset) > Number(o.low)
  })
  return { count, partitions: offsets.length, stale }
}

/**
 * Makes sure the data set exists with exactly its records (created when missing, recreated when
 * wrong or close to falling out of `--since 30d`). Returns { topics, records, created }.
 */
export async function ensureDataset(name, { brokers = '127.0.0.1:9092', log = (l) => process.stderr.write(`[bench] ${l}\n`) } = {}) {
  const set = DATASETS[name]
  if (!set) throw new Error(`unknown data set ${name}`)
  const adm = admin(brokers)
  await adm.connect()
  let created = false
  try {
    for (const [i, topic] of set.topics.entries()) {
      const have = await inspect(adm, topic)
      if (have && have.count === set.perTopic && have.partitions === PARTITIONS && !have.stale) continue
      if (have) {
        log(`${topic}: ${have.count} records in ${have.partitions} partitions${have.stale ? ', too old' : ''}; recreating`)
        await adm.deleteTopics({ topics: [topic], timeout: 30_000 })
        for (let t = 0; t < 60 && (await adm.listTopics()).includes(topic); t++) await new Promise((r) => setTimeout(r, 500))
      }
      await adm.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'retention.bytes', value: '-1' }] }],
        waitForLeaders: true,
      })
      const t0 = Date.now()
      log(`${topic}: producing ${set.perTopic.toLocaleString('en')} records…`)
      await produce(brokers, topic, set.perTopic, i, Boolean(set.trace))
      const now = await inspect(adm, topic)
      if (now?.count !== set.perTopic) throw new Error(`${topic}: expected ${set.perTopic} records after producing, found ${now?.count}`)
      log(`${topic}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      created = true
    }
  } finally {
    await adm.disconnect()
  }
  return { topics: set.topics, records: set.perTopic * set.topics.length, created }
}

/** kafkajs 2.2.4 sets negative timeouts on Node ≥ 23 (harmless, clamped to 1 ms): drop that one warning (bin/quiet-warnings.js). */
export const quietKafkajsWarnings = dropTimeoutNegativeWarning

async function main() {
  quietKafkajsWarnings()
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const bi = argv.indexOf('--brokers')
  const brokers = bi >= 0 ? argv[bi + 1] : process.env.EVT_BENCH_BROKERS ?? '127.0.0.1:9092'
  for (const name of quick ? ['tail-250k', 'trace-250k'] : argv.includes('--large') ? Object.keys(DATASETS) : Object.keys(DATASETS).filter((k) => !DATASETS[k].large)) {
    const r = await ensureDataset(name, { brokers })
    process.stderr.write(`[bench] ${name}: ${r.topics.join(', ')} (${r.records.toLocaleString('en')} records)${r.created ? '' : ', reused'}\n`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`[bench] ${err.stack ?? err}\n`)
    process.exitCode = 1
  })
}
