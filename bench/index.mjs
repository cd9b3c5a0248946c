#!/usr/bin/env node
// The trace index, measured: `npm run bench:index [-- --set trace-250k|trace-1m] [--runs N] [--no-postgres]`.
//
// For each store (local SQLite; PostgreSQL from `npm run kafka:up -- --postgres` unless --no-postgres):
// drops the bench index, runs one `evt index run --exit` worker over the data set (records/s), reads
// `evt index status --json` (rows, bytes per row), then times `evt trace <id> --index …` against the
// plain scan, alternately, N runs each, and checks both found the same records. Reports medians
// (stdout table, bench/index-results.json). Nothing here asserts timings.
//
// Needs: the local cluster, kcat (bench/data.mjs makes the data), a build in dist/.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { POSTGRES_URL, up } from '../scripts/cluster.mjs'
import { DATASETS, TRACE_ID, ensureDataset, quietKafkajsWarnings } from './data.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(BENCH_DIR, '..')
const EVT = path.join(ROOT, 'bin', 'run.js')

function parseArgs(argv) {
  const o = { set: 'trace-250k', runs: 5, postgres: true, brokers: process.env.EVT_BENCH_BROKERS ?? '127.0.0.1:9092', out: path.join(BENCH_DIR, 'index-results.json') }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--set') o.set = argv[++i]
    else if (a === '--runs') o.runs = Number(argv[++i])
    else if (a === '--no-postgres') o.postgres = false
    else if (a === '--brokers') o.brokers = argv[++i]
    else if (a === '--out') o.out = path.resolve(argv[++i])
    else throw new Error(`unknown option ${a}`)
  }
  if (!DATASETS[o.set]?.trace) throw new Error(`--set must be a trace data set: ${Object.keys(DATASETS).filter((k) => DATASETS[k].trace).join(', ')}`)
  return o
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Runs evt under GNU time: wall ms, and CPU seconds (user + system) of the process. */
function evt(args, env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-f', 'EVT-CPU %U %S', process.execPath, EVT, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`evt ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`)
  const cpu = /EVT-CPU ([\d.]+) ([\d.]+)/.exec(r.stderr)
  return { ms, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : null, stdout: r.stdout, stderr: r.stderr }
}

async function main() {
  quietKafkajsWarnings()
  const o = parseArgs(process.argv.slice(2))
  const data = await ensureDataset(o.set, { brokers: o.brokers })
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'evt-bench-index-'))
  const env = { EVT_BROKERS: o.brokers, XDG_STATE_HOME: state }
  const stores = [{ name: 'sqlite', arg: 'local' }]
  if (o.postgres) {
    await up({ postgres: true, log: () => {} })
    stores.push({ name: 'postgres', arg: POSTGRES_URL })
  }
  const results = { set: o.set, records: data.records, runs: o.runs, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, stores: [] }
  for (const store of stores) {
    const name = `bench-${store.name}`
    evt(['index', 'drop', '--store', store.arg, '--name', name, '--yes'], env)
    const run = evt(['index', 'run', ...data.topics, '--store', store.arg, '--name', name, '--exit', '--json'], env)
    const done = JSON.parse(run.stdout.trim().split('\n').at(-1))
    const status = JSON.parse(evt(['index', 'status', '--store', store.arg, '--name', name, '--json'], env).stdout)
    const trace = (withIndex) => evt(['trace', TRACE_ID, ...data.topics.flatMap((t) => ['-t', t]), '--since', '30d', '-f', 'json', ...(withIndex ? ['--index', `${store.arg === 'local' ? `local:${name}` : `${store.arg}#${name}`}`] : [])], env)
    const ids = (r) => JSON.parse(r.stdout).records.map((x) => x.id).sort().join(',')
    const warm = [trace(false), trace(true)]
    if (ids(warm[0]) !== ids(warm[1])) throw new Error(`${store.name}: the index found other records than the scan`)
    const indexMs = []
    const scanMs = []
    const lookupMs = []
    for (let i = 0; i < o.runs; i++) {
      for (const withIndex of i % 2 ? [true, false] : [false, true]) {
        const r = trace(withIndex)
        ;(withIndex ? indexMs : scanMs).push(r.ms)
        if (withIndex) lookupMs.push(JSON.parse(r.stdout).index.lookupMs)
      }
    }
    const entry = {
      store: store.name,
      indexRecordsPerSecond: Math.round(done.records / (done.elapsedMs / 1000)),
      indexCpuSeconds: run.cpuSeconds,
      indexRecordsPerCpuSecond: run.cpuSeconds ? Math.round(done.records / run.cpuSeconds) : null,
      loadAverage: os.loadavg()[0],
      indexWallMs: Math.round(run.ms),
      rows: status.rows,
      sizeBytes: status.sizeBytes,
      bytesPerRow: status.rows ? Math.round(status.sizeBytes / status.rows) : null,
      traceIndexMedianMs: Math.round(median(indexMs)),
      traceIndexLookupMedianMs: Math.round(median(lookupMs)),
      traceScanMedianMs: Math.round(median(scanMs)),
      found: warm[1].stdout ? JSON.parse(warm[1].stdout).records.length : 0,
    }
    results.stores.push(entry)
    evt(['index', 'drop', '--store', store.arg, '--name', name, '--yes'], env)
    process.stderr.write(`[bench] ${store.name}: ${JSON.stringify(entry)}\n`)
  }
  fs.rmSync(state, { recursive: true, force: true })
  fs.writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`)
  const rows = results.stores.map((s) => `| ${s.store} | ${s.indexRecordsPerSecond.toLocaleString('en')} | ${s.indexRecordsPerCpuSecond?.toLocaleString('en') ?? '?'} | ${s.bytesPerRow} | ${s.traceIndexLookupMedianMs} | ${s.traceIndexMedianMs} | ${s.traceScanMedianMs} |`)
  process.stdout.write(`${o.set}: ${data.records.toLocaleString('en')} records, ${o.runs} runs each (medians, ms; one worker; load average ${os.loadavg()[0].toFixed(1)})\n\n| store | indexed records/s (wall) | indexed records per CPU second | bytes/row | lookup + fetch ms | trace --index ms | trace (scan) ms |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`)
}

main().catch((err) => {
  process.stderr.write(`[bench] ${err.stack ?? err}\n`)
  process.exitCode = 1
})
