#!/usr/bin/env node
// evt against kcat (librdkafka, C) on the same data, in the same run: `npm run bench [-- --quick]`.
//
//   node bench/run.mjs [--quick] [--pairs N] [--only tail,trace,lint,first,startup,replay] [--brokers HOST:PORT]
//                      [--out bench/results.json] [--no-first] [--evt path/to/bin/run.js]
//                      [--replay-per N]   (replay: the first N records of each partition; 0 = all)
//
// Every scenario runs evt and its peer alternately (evt first in even pairs, the peer first in odd
// ones), after one unmeasured warm-up of each that also checks both printed the same records.
// Numbers on shared machines are noisy: the table gives medians and the median of the per-pair
// ratios, never one run. Peak RSS comes from GNU time (`/usr/bin/time -f %M`), for node and kcat
// alike. Nothing here asserts timings: it reports them (also as JSON in bench/results.json).
//
// Needs: the local cluster (`npm run kafka:up`), kcat, GNU time, a build in dist/ (npm run bench
// builds first). The first-record scenario starts its own throwaway broker (bench/delay-broker.mjs).
// With Go (PATH or /usr/local/go/bin), bench/franz/ (a minimal franz-go client) is built into
// bench/.state/franz/ and measured as a third column: the raw-client limit of this broker here.
// The replay scenario runs in full runs and with --only replay (not in --quick: evt's transactional
// copy takes too long for the quick budget).

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { KAFKA_VERSION } from '../scripts/cluster.mjs'
import { DATASETS, TRACE_ID, ensureDataset, quietKafkajsWarnings } from './data.mjs'
import { REBALANCE_DELAY_MS, delayBrokerUnavailable, startDelayBroker } from './delay-broker.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(BENCH_DIR, '..')
const STATE = path.join(BENCH_DIR, '.state')
let EVT_BIN = path.join(ROOT, 'bin', 'run.js') // --evt: benchmark another build (e.g. a checkout of the previous commit)
const TIME = '/usr/bin/time'

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = { quick: false, pairs: undefined, only: undefined, brokers: process.env.EVT_BENCH_BROKERS ?? '127.0.0.1:9092', out: path.join(BENCH_DIR, 'results.json'), first: true, replayPer: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--quick') o.quick = true
    else if (a === '--pairs') o.pairs = Number(next())
    else if (a === '--only') o.only = new Set(next().split(','))
    else if (a === '--brokers') o.brokers = next()
    else if (a === '--out') o.out = path.resolve(next())
    else if (a === '--no-first') o.first = false
    else if (a === '--evt') o.evt = path.resolve(next())
    else if (a === '--replay-per') o.replayPer = Number(next())
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 13).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n')
      process.exit(0)
    } else throw new Error(`unknown option ${a} (see --help)`)
  }
  o.pairs ??= o.quick ? 5 : 7
  if (o.evt) EVT_BIN = o.evt
  if (!Number.isInteger(o.pairs) || o.pairs < 1) throw new Error('--pairs must be a positive integer')
  if (o.pairs < 5) log(`note: ${o.pairs} pairs (fewer than 5): ratios are rough`)
  return o
}

const log = (line) => process.stderr.write(`[bench] ${line}\n`)

// ---------------------------------------------------------------------------------------------
// Running and measuring one process

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

let runSeq = 0
/** Environment for evt: no user profile or EVT_* settings leak into the measurement. */
function evtEnv() {
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(STATE, 'xdg'), NO_COLOR: '1' }
  for (const k of Object.keys(env)) if (k.startsWith('EVT_')) delete env[k]
  return env
}

/**
 * Runs `cmd args` under GNU time. stdout: 'null' (/dev/null, as `> /dev/null`), 'count' (newlines
 * counted), or 'capture'. Resolves { wallMs, rssKb, code, lines?, stdout?, stderr }.
 */
function measure(cmd, args, { stdout = 'null', env = process.env, timeoutMs = 600_000 } = {}) {
  const rssFile = path.join(STATE, `rss-${process.pid}-${runSeq++}.txt`)
  return new Promise((resolve, reject) => {
    const devnull = stdout === 'null' ? fs.openSync('/dev/null', 'w') : undefined
    const t0 = performance.now()
    const child = spawn(TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { stdio: ['ignore', devnull ?? 'pipe', 'pipe'], env })
    if (devnull !== undefined) fs.closeSync(devnull)
    let lines = 0
    const chunks = []
    let stderr = ''
    child.stdout?.on('data', (b) => {
      if (stdout === 'capture') chunks.push(b)
      else for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++
    })
    child.stderr.on('data', (b) => { stderr = (stderr + b).slice(-4000) })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      const wallMs = performance.now() - t0
      clearTimeout(timer)
      let rssKb = NaN
      try {
        rssKb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop())
        fs.rmSync(rssFile)
      } catch {}
      resolve({ wallMs, rssKb, code, lines: stdout === 'count' ? lines : undefined, stdout: stdout === 'capture' ? Buffer.concat(chunks).toString() : undefined, stderr })
    })
  })
}

function check(what, r) {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.stderr}`)
  return r
}

/**
 * Runs `a` and `b` alternately `pairs` times (after one unmeasured warm-up of each, `verify`-ed).
 * Each of a/b is `(mode) => Promise<{wallMs, rssKb, ...}>`; mode 'warmup' or 'measure'.
 */
async function alternate(name, pairs, a, b, verify, c) {
  const wa = await a('warmup')
  const wb = await b('warmup')
  const wc = c ? await c('warmup') : undefined
  verify?.(wa, wb, wc)
  const runs = []
  for (let i = 0; i < pairs; i++) {
    let ra
    let rb
    let rc
    if (i % 2 === 0) {
      ra = await a('measure')
      rb = await b('measure')
    } else {
      rb = await b('measure')
      ra = await a('measure')
    }
    // the raw-client limit (optional third contender) runs after both, first in every third pair
    if (c) rc = await c('measure')
    runs.push({ evt: ra, peer: rb, ...(rc ? { limit: rc } : {}) })
    log(`  ${name} pair ${i + 1}/${pairs}: evt ${fmtMs(ra.wallMs)} (${fmtMb(ra.rssKb)})  peer ${fmtMs(rb.wallMs)} (${fmtMb(rb.rssKb)})${rc ? `  franz ${fmtMs(rc.wallMs)} (${fmtMb(rc.rssKb)})` : ''}`)
  }
  return runs
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const fmtMb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '?')
const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M rec/s` : `${(r / 1e3).toFixed(0)} k rec/s`)

function summarise(runs, ratioOf) {
  const evtWall = median(runs.map((r) => r.evt.wallMs))
  const peerWall = median(runs.map((r) => r.peer.wallMs))
  const limit = runs.every((r) => r.limit)
    ? { limitWallMs: median(runs.map((r) => r.limit.wallMs)), limitRssKb: median(runs.map((r) => r.limit.rssKb)), limitFraction: median(runs.map((r) => r.limit.wallMs / r.evt.wallMs)) }
    : {}
  return {
    ...limit,
    evtWallMs: evtWall,
    peerWallMs: peerWall,
    ratio: median(runs.map((r) => ratioOf(r.evt, r.peer))),
    // under contention the fastest run of each is the least disturbed one: a second estimate
    bestRatio: ratioOf({ wallMs: Math.min(...runs.map((r) => r.evt.wallMs)) }, { wallMs: Math.min(...runs.map((r) => r.peer.wallMs)) }),
    evtRssKb: median(runs.map((r) => r.evt.rssKb)),
    evtRssMaxKb: Math.max(...runs.map((r) => r.evt.rssKb)),
    peerRssKb: median(runs.map((r) => r.peer.rssKb)),
  }
}

// ---------------------------------------------------------------------------------------------
// The raw-client limit: bench/franz (franz-go), built with the Go toolchain

let FRANZ // path of the built binary, or null when Go is missing (the column is left out)
function franz() {
  if (FRANZ !== undefined) return FRANZ
  const go = [process.env.GO, 'go', '/usr/local/go/bin/go'].find((g) => g && !spawnSync(g, ['version']).error)
  if (!go) {
    log('Go not found: the franz-go (raw-client limit) column is left out')
    return (FRANZ = null)
  }
  const out = path.join(STATE, 'franz', 'franz')
  const r = spawnSync(go, ['build', '-o', out, '.'], { cwd: path.join(BENCH_DIR, 'franz'), encoding: 'utf8' })
  if (r.status !== 0) {
    log(`building bench/franz failed, the raw-client column is left out:\n${r.stderr}`)
    return (FRANZ = null)
  }
  return (FRANZ = out)
}

/** franz consume of each topic, in parallel (trace's limit line); RSS = sum of the peaks. */
async function franzConsume(brokers, topics) {
  const t0 = performance.now()
  const parts = await Promise.all(topics.map((t) => measure(franz(), ['consume', '-b', brokers, '-t', t], { stdout: 'capture' })))
  const wallMs = performance.now() - t0
  const bad = parts.find((p) => p.code !== 0)
  if (bad) throw new Error(`franz consume exited with ${bad.code}:\n${bad.stderr}`)
  return { wallMs, rssKb: parts.reduce((n, p) => n + p.rssKb, 0), records: parts.reduce((n, p) => n + Number(p.stdout.trim()), 0) }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** 1. tail: `evt tail T -o start -e -f json > /dev/null` vs `kcat -C -e -J -t T > /dev/null`. */
async function scenarioTail(o, dataset) {
  const { topics, records } = await ensureDataset(dataset, { brokers: o.brokers, log })
  const topic = topics[0]
  log(`tail: ${topic} (${records.toLocaleString('en')} records), ${o.pairs} pairs`)
  const evt = (mode) => measure(process.execPath, [EVT_BIN, 'tail', topic, '-o', 'start', '-e', '-f', 'json', '-b', o.brokers], { stdout: mode === 'warmup' ? 'count' : 'null', env: evtEnv() }).then((r) => check('evt tail', r))
  const kcat = (mode) => measure('kcat', ['-b', o.brokers, '-C', '-e', '-J', '-t', topic], { stdout: mode === 'warmup' ? 'count' : 'null' }).then((r) => check('kcat -C', r))
  const limit = franz() ? () => measure(franz(), ['consume', '-b', o.brokers, '-t', topic], { stdout: 'capture' }).then((r) => check('franz consume', r)) : undefined
  const runs = await alternate(`tail ${dataset}`, o.pairs, evt, kcat, (a, b, c) => {
    if (a.lines !== records || b.lines !== records) throw new Error(`tail ${topic}: evt printed ${a.lines} records, kcat ${b.lines}; expected ${records}`)
    if (c && Number(c.stdout.trim()) !== records) throw new Error(`tail ${topic}: franz read ${c.stdout.trim()} records; expected ${records}`)
  }, limit)
  const s = summarise(runs, (e, p) => p.wallMs / e.wallMs) // records/s ratio = inverse wall ratio
  return { scenario: 'tail', dataset, topic, records, ...s, evtRate: records / (s.evtWallMs / 1000), peerRate: records / (s.peerWallMs / 1000), target: '>= 2.5', met: s.ratio >= 2.5, runs }
}

/** kcat -C -e -J of each topic piped into grep, all topics in parallel; RSS = sum of the kcat peaks. */
async function kcatGrep(brokers, topics, id) {
  const t0 = performance.now()
  const parts = await Promise.all(topics.map((t) => {
    const rssFile = path.join(STATE, `rss-${process.pid}-${runSeq++}.txt`)
    const script = `set -o pipefail; ${TIME} -f %M -o '${rssFile}' kcat -b '${brokers}' -C -e -J -t '${t}' | grep '${id}'`
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (b) => { out += b })
      child.stderr.on('data', (b) => { err = (err + b).slice(-4000) })
      child.on('error', reject)
      child.on('close', (code) => {
        let rssKb = NaN
        try {
          rssKb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop())
          fs.rmSync(rssFile)
        } catch {}
        resolve({ code, out, err, rssKb })
      })
    })
  }))
  const wallMs = performance.now() - t0
  const bad = parts.find((p) => p.code !== 0)
  if (bad) throw new Error(`kcat | grep exited with ${bad.code}:\n${bad.err}`)
  return { wallMs, rssKb: parts.reduce((n, p) => n + p.rssKb, 0), matches: parts.reduce((n, p) => n + p.out.split('\n').filter(Boolean).length, 0) }
}

/** 2. trace: `evt trace <id> --since 30d -f json` vs kcat | grep per topic, in parallel. */
async function scenarioTrace(o, dataset) {
  const { topics, records } = await ensureDataset(dataset, { brokers: o.brokers, log })
  const glob = `${topics[0].replace(/\.[^.]+$/, '')}.*`
  log(`trace: ${glob} (${topics.length} topics, ${records.toLocaleString('en')} records), ${o.pairs} pairs`)
  const evt = () => measure(process.execPath, [EVT_BIN, 'trace', TRACE_ID, '--since', '30d', '-f', 'json', '-t', glob, '-b', o.brokers], { stdout: 'capture', env: evtEnv() }).then((r) => {
    check('evt trace', r)
    const json = JSON.parse(r.stdout)
    return { ...r, stdout: undefined, matches: json.records.length, scanned: json.scanned }
  })
  const peer = () => kcatGrep(o.brokers, topics, TRACE_ID)
  const limit = franz() ? () => franzConsume(o.brokers, topics) : undefined
  const runs = await alternate(`trace ${dataset}`, o.pairs, evt, peer, (a, b, c) => {
    if (a.matches !== 8 || b.matches !== 8 || a.scanned !== records) throw new Error(`trace: evt found ${a.matches} records (scanned ${a.scanned}), kcat|grep ${b.matches}; expected 8 of ${records}`)
    if (c && c.records !== records) throw new Error(`trace: franz read ${c.records} records; expected ${records}`)
  }, limit)
  const s = summarise(runs, (e, p) => e.wallMs / p.wallMs)
  return { scenario: 'trace', dataset, topics, records, ...s, target: '<= 0.4', met: s.ratio <= 0.4, runs }
}

/** 6. lint: `evt lint T -n <all> --json` vs `evt tail T -o start -e -f json > /dev/null` (the same records read and decoded). */
async function scenarioLint(o, dataset) {
  const { topics, records } = await ensureDataset(dataset, { brokers: o.brokers, log })
  const topic = topics[0]
  log(`lint: ${topic} (${records.toLocaleString('en')} records), ${o.pairs} pairs`)
  const evt = () => measure(process.execPath, [EVT_BIN, 'lint', topic, '-n', String(records), '--json', '-b', o.brokers], { stdout: 'capture', env: evtEnv() }).then((r) => {
    check('evt lint', r)
    return { ...r, stdout: undefined, scanned: JSON.parse(r.stdout).scanned }
  })
  const tail = (mode) => measure(process.execPath, [EVT_BIN, 'tail', topic, '-o', 'start', '-e', '-f', 'json', '-b', o.brokers], { stdout: mode === 'warmup' ? 'count' : 'null', env: evtEnv() }).then((r) => check('evt tail', r))
  const runs = await alternate(`lint ${dataset}`, o.pairs, evt, tail, (a, b) => {
    if (a.scanned !== records || b.lines !== records) throw new Error(`lint ${topic}: lint read ${a.scanned} records, tail printed ${b.lines}; expected ${records}`)
  })
  const s = summarise(runs, (e, p) => p.wallMs / e.wallMs) // records/s ratio = inverse wall ratio
  return { scenario: 'lint', dataset, topic, records, ...s, evtRate: records / (s.evtWallMs / 1000), peerRate: records / (s.peerWallMs / 1000), target: '>= 0.8', met: s.ratio >= 0.8, runs }
}

/** 4. start-up: `evt --version` vs `node -e 0`. */
async function scenarioStartup(o) {
  const pairs = Math.max(o.pairs, 10)
  log(`start-up: ${pairs} pairs`)
  const evt = () => measure(process.execPath, [EVT_BIN, '--version'], { stdout: 'count', env: evtEnv() }).then((r) => check('evt --version', r))
  const node = () => measure(process.execPath, ['-e', '0'], { stdout: 'count' }).then((r) => check('node -e 0', r))
  const runs = await alternate('start-up', pairs, evt, node)
  const s = summarise(runs, (e, p) => e.wallMs / p.wallMs)
  return { scenario: 'startup', ...s, target: '<= 2.5', met: s.ratio <= 2.5, runs }
}

/** 4b. start-up of a command that loads its code: `evt tail --help` vs `node -e 0`. */
async function scenarioStartupHelp(o) {
  const pairs = Math.max(o.pairs, 10)
  log(`start-up (tail --help): ${pairs} pairs`)
  const evt = () => measure(process.execPath, [EVT_BIN, 'tail', '--help'], { stdout: 'count', env: evtEnv() }).then((r) => check('evt tail --help', r))
  const node = () => measure(process.execPath, ['-e', '0'], { stdout: 'count' }).then((r) => check('node -e 0', r))
  const runs = await alternate('start-up help', pairs, evt, node)
  const s = summarise(runs, (e, p) => e.wallMs / p.wallMs)
  return { scenario: 'startup-help', ...s, runs }
}

/**
 * 6. replay to a topic: `evt replay T --to-topic X --from start [--to +N] -y` (transactional, headers
 * kept; with and without --filter) vs `kcat -C -e -K'\t' | kcat -P -K'\t'` (no headers, no
 * transactions) vs franz copy (headers kept, idempotent, not transactional). Each run writes into a
 * new 6-partition topic, deleted afterwards. Records/s ratio = peer wall ÷ evt wall.
 */
async function scenarioReplay(o, dataset) {
  const { topics, records: all } = await ensureDataset(dataset, { brokers: o.brokers, log })
  const source = topics[0]
  const per = o.replayPer ?? (o.quick ? 10_000 : 0)
  const records = per > 0 ? Math.min(all, per * 6) : all
  const pairs = Math.min(o.pairs, 3)
  log(`replay: ${source} → new topics (${records.toLocaleString('en')} records), ${pairs} pairs`)
  const kafka = new kafkajs.Kafka({ clientId: 'evt-bench', brokers: [o.brokers], logLevel: kafkajs.logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const made = []
  const target = async () => {
    const t = `bench.replay.target.${process.pid}.${made.length}`
    made.push(t)
    await admin.createTopics({ topics: [{ topic: t, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true })
    return t
  }
  const count = async (t) => (await admin.fetchTopicOffsets(t)).reduce((n, p) => n + Number(p.high), 0)
  const evtReplay = (filter) => async () => {
    const t = await target()
    const args = [EVT_BIN, 'replay', source, '--to-topic', t, '--from', 'start', ...(per > 0 ? ['--to', `+${per}`] : []), '-y', '-b', o.brokers, ...(filter ? ['--filter', filter] : [])]
    const r = check('evt replay', await measure(process.execPath, args, { env: evtEnv() }))
    return { ...r, copied: await count(t) } // transaction markers count as offsets: ≥ records
  }
  const kcatPipe = async () => {
    const t = await target()
    const c = per > 0 ? `-c ${records}` : ''
    const rssFile = path.join(STATE, `rss-${process.pid}-${runSeq++}.txt`)
    const script = `set -o pipefail; kcat -b '${o.brokers}' -C -e -q -o beginning ${c} -K'\t' -t '${source}' | ${TIME} -f %M -o '${rssFile}' kcat -b '${o.brokers}' -P -K'\t' -t '${t}'`
    const r = check('kcat | kcat -P', await measure('bash', ['-c', script]))
    try {
      r.rssKb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop())
      fs.rmSync(rssFile)
    } catch {}
    return { ...r, copied: await count(t) }
  }
  const franzCopy = franz() ? async () => {
    const t = await target()
    const r = check('franz copy', await measure(franz(), ['copy', '-b', o.brokers, '-t', source, '-to', t, ...(per > 0 ? ['-per', String(per)] : [])], { stdout: 'capture' }))
    return { ...r, copied: await count(t) }
  } : undefined
  const verify = (a, b, c) => {
    if (a.copied < records || b.copied !== records || (c && c.copied !== records)) throw new Error(`replay: evt copied ${a.copied} offsets, kcat ${b.copied}, franz ${c?.copied}; expected ${records} records`)
  }
  try {
    const plain = await alternate(`replay ${dataset}`, pairs, evtReplay(), kcatPipe, verify, franzCopy)
    const filtered = await alternate(`replay --filter ${dataset}`, pairs, evtReplay('value.event_type != "none"'), kcatPipe, (a, b) => verify(a, b), undefined)
    const s = summarise(plain, (e, p) => p.wallMs / e.wallMs)
    const f = summarise(filtered, (e, p) => p.wallMs / e.wallMs)
    return { scenario: 'replay', dataset, source, records, plain: s, filtered: f, target: '>= 1.0', met: s.ratio >= 1, runs: { plain, filtered } }
  } finally {
    await admin.deleteTopics({ topics: made }).catch(() => {})
    await admin.disconnect().catch(() => {})
  }
}

/**
 * One first-record measurement: spawns `cmd`, which must print a JSON line per record; returns the
 * time from spawn to the first record line, and from that record's (producer) timestamp to the
 * moment it was printed.
 */
function firstRecord(cmd, args, { env = process.env, timeoutMs = 20_000, tsField }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
    let buf = ''
    let err = ''
    let done = false
    const finish = (result) => {
      if (done) return
      done = true
      clearTimeout(timer)
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('close', () => {
        clearTimeout(killer)
        if (result instanceof Error) reject(result)
        else resolve(result)
      })
    }
    const timer = setTimeout(() => finish(new Error(`${path.basename(cmd)} ${args.join(' ')}: no record within ${timeoutMs} ms\n${err}`)), timeoutMs)
    child.stdout.on('data', (b) => {
      const now = performance.now()
      const wall = Date.now()
      buf += b
      const nl = buf.indexOf('\n')
      if (nl === -1 || done) return
      const rec = JSON.parse(buf.slice(0, nl))
      finish({ startToFirstMs: now - t0, produceToPrintMs: wall - Number(rec[tsField]) })
    })
    child.stderr.on('data', (b) => { err = (err + b).slice(-4000) })
    child.on('error', (e) => finish(e))
    child.on('exit', (code) => { if (!done) finish(new Error(`${path.basename(cmd)} exited with ${code} before printing a record\n${err}`)) })
  })
}

/** 3. first record on a broker with the 3000 ms rebalance delay: evt vs kcat (no group) vs a kafkajs group. */
async function scenarioFirst(o) {
  const why = delayBrokerUnavailable()
  if (why) return { scenario: 'first', skipped: why }
  const topic = 'bench.first'
  const broker = await startDelayBroker({ topics: [topic], log })
  const kafka = new kafkajs.Kafka({ clientId: 'evt-bench', brokers: [broker.brokers], logLevel: kafkajs.logLevel.NOTHING })
  const producer = kafka.producer()
  const admin = kafka.admin()
  let timer
  try {
    await producer.connect()
    await admin.connect()
    // one record every 20 ms, all the time: whenever a consumer is ready, a record is "just produced"
    let seq = 0
    let sending = false
    timer = setInterval(() => {
      if (sending) return
      sending = true
      producer.send({ topic, acks: 1, messages: [{ key: `k${seq % 12}`, value: JSON.stringify({ seq: seq++, sent: Date.now() }) }] }).catch(() => {}).finally(() => { sending = false })
    }, 20)
    const groups = async () => new Set((await admin.listGroups()).groups.map((g) => g.groupId))
    const contenders = {
      evt: () => firstRecord(process.execPath, [EVT_BIN, 'tail', topic, '-o', 'end', '-f', 'json', '-b', broker.brokers], { env: evtEnv(), tsField: 'timestamp' }),
      kcat: () => firstRecord('kcat', ['-b', broker.brokers, '-C', '-u', '-J', '-o', 'end', '-t', topic], { tsField: 'ts' }),
      'kafkajs group': () => firstRecord(process.execPath, [path.join(BENCH_DIR, 'group-consumer.mjs'), broker.brokers, topic], { tsField: 'timestamp' }),
    }
    const names = Object.keys(contenders)
    const runs = Object.fromEntries(names.map((n) => [n, []]))
    const newGroups = Object.fromEntries(names.map((n) => [n, 0]))
    const pairs = o.pairs
    log(`first record: ${names.join(' / ')}, ${pairs} rounds, on ${broker.brokers}`)
    for (const n of names) await contenders[n]() // warm-up (JIT caches, connections, page cache)
    for (let i = 0; i < pairs; i++) {
      const order = names.map((_, k) => names[(k + i) % names.length])
      for (const n of order) {
        const before = await groups()
        const r = await contenders[n]()
        const after = await groups()
        const added = [...after].filter((g) => !before.has(g)).length
        newGroups[n] += added
        runs[n].push({ ...r, newGroups: added })
      }
      log(`  first record round ${i + 1}/${pairs}: ${names.map((n) => `${n} ${fmtMs(runs[n][i].startToFirstMs)}`).join('  ')}`)
    }
    const summary = Object.fromEntries(names.map((n) => [n, {
      startToFirstMs: median(runs[n].map((r) => r.startToFirstMs)),
      produceToPrintMs: median(runs[n].map((r) => r.produceToPrintMs)),
      newGroups: newGroups[n],
    }]))
    const ratio = median(runs.evt.map((r, i) => r.startToFirstMs / runs.kcat[i].startToFirstMs))
    return { scenario: 'first', broker: broker.brokers, rebalanceDelayMs: REBALANCE_DELAY_MS, summary, ratio, target: '< 1 s', met: summary.evt.startToFirstMs < 1000, runs }
  } finally {
    clearInterval(timer)
    await producer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
    await broker.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Machine and report

function machine() {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?'
  const kcatV = /Version (\S+).*librdkafka (\S+)/.exec(spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? '')
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim()
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim()
  return {
    nproc: os.availableParallelism(),
    cpu,
    ramGb: +(os.totalmem() / 1024 ** 3).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kcat: kcatV ? `${kcatV[1]} (librdkafka ${kcatV[2]})` : '?',
    kafka: KAFKA_VERSION,
    git: git ? `${git}${dirty ? ' + uncommitted src changes' : ''}` : undefined,
  }
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)))
  const line = (r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd()
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

const yes = (met) => (met === undefined ? '' : met ? 'yes' : 'no')

function report(results, m, o) {
  const rows = [['scenario', 'evt', 'peer', 'ratio (median of pairs)', 'target', 'met', 'evt peak RSS', 'peer peak RSS']]
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.scenario, `skipped: ${r.skipped}`, '', '', '', '', '', ''])
      continue
    }
    if (r.scenario === 'tail') {
      rows.push([`1 tail ${r.dataset}`, `${fmtMs(r.evtWallMs)} ${fmtRate(r.evtRate)}`, `kcat ${fmtMs(r.peerWallMs)} ${fmtRate(r.peerRate)}`, `${r.ratio.toFixed(2)} (best ${r.bestRatio.toFixed(2)}) rec/s evt÷kcat`, '≥ 2.5', yes(r.met), fmtMb(r.evtRssKb), fmtMb(r.peerRssKb)])
      if (r.limitWallMs) rows.push([`1 tail ${r.dataset} vs franz-go`, '', `franz ${fmtMs(r.limitWallMs)} ${fmtRate(r.records / (r.limitWallMs / 1000))}`, `${r.limitFraction.toFixed(2)} rec/s evt÷franz`, '≥ 0.5', yes(r.limitFraction >= 0.5), '', fmtMb(r.limitRssKb)])
    } else if (r.scenario === 'trace') {
      rows.push([`2 trace ${r.dataset}`, fmtMs(r.evtWallMs), `kcat|grep ×${r.topics.length} ${fmtMs(r.peerWallMs)}`, `${r.ratio.toFixed(2)} (best ${r.bestRatio.toFixed(2)}) wall evt÷peer`, '≤ 0.4', yes(r.met), fmtMb(r.evtRssKb), `${fmtMb(r.peerRssKb)} (Σ kcat)`])
      if (r.limitWallMs) rows.push([`2 trace ${r.dataset} vs franz-go`, '', `franz ×${r.topics.length} ${fmtMs(r.limitWallMs)}`, `${r.limitFraction.toFixed(2)} rec/s evt÷franz`, '', '', '', `${fmtMb(r.limitRssKb)} (Σ franz)`])
    } else if (r.scenario === 'replay') {
      for (const [label, x] of [['', r.plain], [' --filter', r.filtered]]) {
        rows.push([`6 replay${label} ${r.records.toLocaleString('en')}`, `${fmtMs(x.evtWallMs)} ${fmtRate(r.records / (x.evtWallMs / 1000))}`, `kcat|kcat -P ${fmtMs(x.peerWallMs)} ${fmtRate(r.records / (x.peerWallMs / 1000))}`, `${x.ratio.toFixed(2)} rec/s evt÷kcat`, '≥ 1.0', yes(x.ratio >= 1), fmtMb(x.evtRssKb), fmtMb(x.peerRssKb)])
        if (x.limitWallMs) rows.push([`6 replay${label} vs franz-go`, '', `franz copy ${fmtMs(x.limitWallMs)} ${fmtRate(r.records / (x.limitWallMs / 1000))}`, `${x.limitFraction.toFixed(2)} rec/s evt÷franz`, '', '', '', fmtMb(x.limitRssKb)])
      }
    } else if (r.scenario === 'first') {
      const s = r.summary
      rows.push([`3 first record (delay ${r.rebalanceDelayMs} ms)`, `${fmtMs(s.evt.startToFirstMs)} (+${s.evt.newGroups} groups)`, `kcat ${fmtMs(s.kcat.startToFirstMs)} (+${s.kcat.newGroups}); kafkajs group ${fmtMs(s['kafkajs group'].startToFirstMs)} (+${s['kafkajs group'].newGroups})`, `${r.ratio.toFixed(2)} (evt÷kcat)`, '< 1 s', yes(r.met), '', ''])
    } else if (r.scenario === 'lint') {
      rows.push([`6 lint ${r.dataset}`, `${fmtMs(r.evtWallMs)} ${fmtRate(r.evtRate)}`, `evt tail ${fmtMs(r.peerWallMs)} ${fmtRate(r.peerRate)}`, `${r.ratio.toFixed(2)} (best ${r.bestRatio.toFixed(2)}) rec/s lint÷tail`, '≥ 0.8', yes(r.met), fmtMb(r.evtRssKb), fmtMb(r.peerRssKb)])
    } else if (r.scenario === 'startup') {
      rows.push(['4 start-up (evt --version)', fmtMs(r.evtWallMs), `node -e 0 ${fmtMs(r.peerWallMs)}`, `${r.ratio.toFixed(2)} (best ${r.bestRatio.toFixed(2)}) wall`, '≤ 2.5', yes(r.met), fmtMb(r.evtRssKb), fmtMb(r.peerRssKb)])
    } else if (r.scenario === 'startup-help') {
      rows.push(['4 start-up (evt tail --help)', fmtMs(r.evtWallMs), `node -e 0 ${fmtMs(r.peerWallMs)}`, `${r.ratio.toFixed(2)} (best ${r.bestRatio.toFixed(2)}) wall`, '', '', fmtMb(r.evtRssKb), fmtMb(r.peerRssKb)])
    }
  }
  for (const r of results.filter((x) => (x.scenario === 'tail' || x.scenario === 'trace') && !x.skipped)) {
    const max = r.evtRssMaxKb
    rows.push([`5 memory ${r.scenario} ${r.dataset}`, `${fmtMb(r.evtRssKb)} (max ${fmtMb(max)})`, `${fmtMb(r.peerRssKb)}`, '', '≤ 128 MB', yes(max <= 128 * 1024), '', ''])
  }
  const first = results.find((r) => r.scenario === 'first' && !r.skipped)
  const head = `evt vs kcat — ${o.quick ? 'quick' : 'full'} run, ${o.pairs} alternating pairs; ${m.nproc} × ${m.cpu}, ${m.ramGb} GB, Node ${m.node}, kcat ${m.kcat}, Kafka ${m.kafka}`
  const notes = [
    'times: medians; ratio: median of the per-pair ratios (best: ratio of the fastest run of each); RSS: median of GNU time %M (max RSS) per process',
  ]
  if (first) notes.push(`3: time from process start to the first record printed (records produced every 20 ms); produce→print of that record: evt ${fmtMs(first.summary.evt.produceToPrintMs)}, kcat ${fmtMs(first.summary.kcat.produceToPrintMs)}, kafkajs group ${fmtMs(first.summary['kafkajs group'].produceToPrintMs)}; "+N groups" = new consumer groups listed afterwards`)
  return `${head}\n\n${table(rows)}\n\n${notes.map((n) => `  ${n}`).join('\n')}\n`
}

// ---------------------------------------------------------------------------------------------

function preflight(o) {
  if (!fs.existsSync(path.join(path.dirname(EVT_BIN), '..', 'dist', 'commands'))) throw new Error('no build in dist/: run `npm run bench` (it builds) or `npm run build`')
  if (spawnSync('kcat', ['-V']).error) throw new Error('kcat is not on PATH (Debian/Ubuntu: apt-get install kcat)')
  const t = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' })
  if (t.error || !/^\d+\s*$/.test(t.stderr)) throw new Error(`${TIME} is not GNU time (Debian/Ubuntu: apt-get install time)`)
  const [host, port] = o.brokers.split(',')[0].split(':')
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(port), timeout: 2000 })
    s.once('connect', () => { s.destroy(); resolve() })
    const fail = () => { s.destroy(); reject(new Error(`no Kafka broker at ${o.brokers}: start the local cluster with \`npm run kafka:up\``)) }
    s.once('timeout', fail)
    s.once('error', fail)
  })
}

async function main() {
  quietKafkajsWarnings()
  const o = parseArgs(process.argv.slice(2))
  fs.mkdirSync(STATE, { recursive: true })
  await preflight(o)
  const want = (s) => !o.only || o.only.has(s)
  const tailSets = o.quick ? ['tail-250k'] : ['tail-250k', 'tail-1m']
  const traceSets = o.quick ? ['trace-250k'] : ['trace-250k', 'trace-1m']
  const started = Date.now()
  // create every data set first, so that producing does not overlap a measurement
  for (const d of [...(want('tail') || want('lint') ? tailSets : []), ...(want('trace') ? traceSets : [])]) {
    const r = await ensureDataset(d, { brokers: o.brokers, log })
    log(`data ${d}: ${r.topics.length} topic(s), ${r.records.toLocaleString('en')} records${r.created ? '' : ' (reused)'}`)
  }
  const results = []
  if (want('tail')) for (const d of tailSets) results.push(await scenarioTail(o, d))
  if (want('trace')) for (const d of traceSets) results.push(await scenarioTrace(o, d))
  if (want('lint')) for (const d of tailSets) results.push(await scenarioLint(o, d))
  if (want('first') && o.first) {
    try {
      results.push(await scenarioFirst(o))
    } catch (err) {
      log(`first record: ${err.message}`)
      results.push({ scenario: 'first', skipped: err.message.split('\n')[0] })
    }
  }
  if (want('startup')) results.push(await scenarioStartup(o), await scenarioStartupHelp(o))
  if (o.only?.has('replay') || (!o.only && !o.quick)) results.push(await scenarioReplay(o, o.quick ? 'tail-250k' : 'tail-1m'))
  const m = machine()
  const text = report(results, m, o)
  process.stdout.write(`\n${text}`)
  const json = { date: new Date().toISOString(), durationS: Math.round((Date.now() - started) / 1000), options: { quick: o.quick, pairs: o.pairs, brokers: o.brokers, evt: EVT_BIN }, machine: m, datasets: DATASETS, table: text, results }
  fs.writeFileSync(o.out, `${JSON.stringify(json, null, 2)}\n`)
  log(`results written to ${path.relative(process.cwd(), o.out)} (${json.durationS} s in all)`)
}

main().catch((err) => {
  log(err.stack ?? String(err))
  process.exitCode = 1
})
