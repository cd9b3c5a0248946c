/**
 * Helpers for the failover tests on the 3-broker local cluster: the cluster's options (one set for
 * every `up()`), evt as a subprocess with its output collected and a hard bound on its life, RF-3
 * topics, partition leaders, an idempotent kafkajs producer and kcat as the independent oracle of
 * what a topic holds. Every wait here is bounded in time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import kafkajs from 'kafkajs'
import type { Admin, Producer } from 'kafkajs'
// @ts-expect-error plain ESM script without type declarations
import * as cluster from '../../scripts/cluster.mjs'
import { ROOT } from '../support/kafka.ts'

/** The three PLAINTEXT listeners of the local cluster. */
export const BROKERS = ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094']
/** The registry's Confluent-compatible API (Apicurio ccompat). */
export const REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7'

/**
 * The options every `up()` of the failover suite passes (global setup and every restart): `up` with
 * other options would replace the cluster instead of restarting the stopped parts on their data.
 */
export const CLUSTER_OPTIONS = { brokers: 3, registry: true, outbox: true } as const

const clusterLog = (line: string) => process.stderr.write(`[cluster] ${line}\n`)

/** Starts what is not running (killed brokers on their data, the registry) and waits until it answers. */
export async function clusterUp(extra: { restart?: boolean } = {}): Promise<void> {
  await cluster.up({ ...CLUSTER_OPTIONS, ...extra, log: clusterLog })
}

/** True when something accepts TCP connections on 127.0.0.1:`port` (within 1 s). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Waits (at most 30 s) until nothing listens on `port` any more: a SIGKILLed JVM's process can look
 * gone (its main thread a zombie) while other threads still hold its sockets, and `up()` refuses a
 * port in use.
 */
async function waitPortClosed(port: number): Promise<void> {
  await waitUntil(`port ${port} closed`, async () => !(await listening(port)), { timeoutMs: 30_000, everyMs: 100 })
}

/** SIGKILLs one broker (node id 1..3) and waits until its process is gone and its client port closed. */
export async function killBroker(nodeId: number): Promise<void> {
  const stopped = (await cluster.stopBroker(nodeId)) as boolean
  if (!stopped) throw new Error(`broker ${nodeId} was not running`)
  await waitPortClosed(cluster.clientPort(nodeId) as number)
  await waitPortClosed(cluster.controllerPort(nodeId) as number)
}

/** SIGKILLs the schema registry and waits until its process is gone and its port closed. */
export async function killRegistry(): Promise<void> {
  const stopped = (await cluster.stopRegistry()) as boolean
  if (!stopped) throw new Error('the registry was not running')
  await waitPortClosed(cluster.REGISTRY_PORT as number)
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Polls `check` every `everyMs` until it returns true; throws naming `what` when `timeoutMs` passed
 * (or, with `stopIf`, as soon as that returns a reason: e.g. the process being waited on exited).
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, { timeoutMs, everyMs = 200, stopIf }: { timeoutMs: number; everyMs?: number; stopIf?: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    const stop = stopIf?.()
    if (stop) throw new Error(`${what}: gave up, ${stop}`)
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

/** How an evt subprocess ended. */
export interface EvtExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** True when the hard bound ran out and the test killed it (a hang: the test must fail). */
  killed: boolean
  stdout: string
  stderr: string
  ms: number
}

/** A running evt subprocess: its output so far, a way to interrupt it, and its end. */
export interface EvtProcess {
  readonly child: ChildProcessWithoutNullStreams
  /** stdout so far. */
  stdout(): string
  /** stderr so far. */
  stderr(): string
  /** Non-empty stdout lines so far (complete lines only). */
  lines(): string[]
  /** Set once the process has exited. */
  exited(): EvtExit | undefined
  /** Resolves when the process exits (by itself, by a signal, or by the hard bound). */
  done: Promise<EvtExit>
  /** Sends SIGINT (Ctrl-C) and waits, at most `graceMs`, for the exit (else SIGKILL, `killed`). */
  interrupt(graceMs?: number): Promise<EvtExit>
}

/**
 * Starts `bin/run.js` (built dist/) against the 3-broker cluster, stdout and stderr on pipes
 * (no TTY: plain output, no live view), NO_COLOR. The process is SIGKILLed after `killAfterMs`
 * at the latest; the result then says `killed`, which the tests treat as a hang.
 */
export function startEvt(args: string[], { env = {}, killAfterMs = 180_000 }: { env?: Record<string, string>; killAfterMs?: number } = {}): EvtProcess {
  const started = Date.now()
  const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', EVT_BROKERS: BROKERS.join(','), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  let killed = false
  let exit: EvtExit | undefined
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const hard = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, killAfterMs)
  const done = new Promise<EvtExit>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(hard)
      exit = { code, signal, killed, stdout, stderr, ms: Date.now() - started }
      resolve(exit)
    })
  })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').filter((l) => l.trim() !== ''),
    exited: () => exit,
    done,
    async interrupt(graceMs = 15_000) {
      if (!exit) child.kill('SIGINT')
      const timer = setTimeout(() => {
        killed = true
        child.kill('SIGKILL')
      }, graceMs)
      try {
        return await done
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/**
 * True when process `pid` holds an established TCP connection to 127.0.0.1:`port` (from
 * /proc/<pid>/fd and /proc/net/tcp: Linux only). Shows that evt is waiting on that broker.
 */
export function connectedTo(pid: number, port: number): boolean {
  let inodes: Set<string>
  try {
    inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''
      } catch {
        return ''
      }
    }).filter(Boolean))
  } catch {
    return false
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).some((line) => {
    const f = line.trim().split(/\s+/)
    return f[2] === remote && f[3] === '01' && inodes.has(f[9])
  })
}

/** Runs evt to its end (bounded by `killAfterMs`, default 120 s). */
export function runEvt(args: string[], options: { env?: Record<string, string>; killAfterMs?: number } = {}): Promise<EvtExit> {
  return startEvt(args, { killAfterMs: 120_000, ...options }).done
}

/** A kafkajs client (not evt's code) on the three brokers, quiet. */
export function kafka(clientId = 'evt-failover-fixture'): InstanceType<typeof kafkajs.Kafka> {
  return new kafkajs.Kafka({ brokers: BROKERS, clientId, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 5000 } })
}

/** Runs `fn` with a connected kafkajs admin, disconnected afterwards. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

/** A unique topic name for this suite. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
}

/**
 * Creates a topic with replication factor 3 and waits (at most `timeoutMs`) until every partition
 * has a leader and all three replicas in sync, so that killing any one broker leaves min ISR 2.
 */
export async function createRf3Topic(topic: string, partitions: number, timeoutMs = 30_000): Promise<void> {
  await withAdmin(async (admin) => {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 3 }], waitForLeaders: true })
    } catch (err) {
      // KRaft propagates a new topic's metadata asynchronously: the leaders are awaited below
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err
    }
    await waitUntil(`topic ${topic} with ${partitions} partitions, leaders and 3 in-sync replicas`, async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined)
      const ps = meta?.topics[0]?.partitions ?? []
      return ps.length === partitions && ps.every((p) => p.leader >= 0 && p.isr.length === 3)
    }, { timeoutMs, everyMs: 100 })
  })
}

/** The node id of the current leader of one partition (from a fresh metadata request). */
export async function partitionLeader(topic: string, partition: number): Promise<number> {
  return withAdmin(async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    const p = meta.topics[0].partitions.find((x) => x.partitionId === partition)
    if (!p || p.leader < 0) throw new Error(`${topic}/${partition} has no leader`)
    return p.leader
  })
}

/**
 * An idempotent kafkajs producer (acks=all on every send, retries with backoff): the independent
 * writer of the tests. The caller disconnects it.
 */
export async function idempotentProducer(): Promise<Producer> {
  const producer = kafka('evt-failover-producer').producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 5000 } })
  await producer.connect()
  return producer
}

/**
 * Everything a topic holds, read by kcat from the beginning to the end (`-e`), one line per
 * record formatted with `format` (kcat's -f; default the value). Bounded by `timeoutMs`.
 */
export function kcatRead(topic: string, format = '%s\\n', timeoutMs = 60_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-b', BROKERS.join(','), '-t', topic, '-e', '-q', '-o', 'beginning', '-f', format.replace(/\\n/g, '\n')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`kcat on ${topic} ended with ${code ?? signal}: ${err.trim()}`))
      else resolve(out.split('\n').filter((l) => l !== ''))
    })
  })
}

/**
 * How `actual` differs from `expected` as multisets: values missing from `actual`, and values
 * `actual` has more often than `expected` (extras and duplicates), each list cut to 20 entries
 * with the full counts beside. Equal multisets give `{ missing: 0, extra: 0, … [] }`.
 */
export function multisetDiff(actual: string[], expected: string[]): { missing: number; extra: number; missingSample: string[]; extraSample: string[] } {
  const counts = new Map<string, number>()
  for (const v of expected) counts.set(v, (counts.get(v) ?? 0) + 1)
  const extra: string[] = []
  for (const v of actual) {
    const n = counts.get(v) ?? 0
    if (n > 0) counts.set(v, n - 1)
    else extra.push(v)
  }
  const missing = [...counts].flatMap(([v, n]) => Array<string>(n).fill(v))
  return { missing: missing.length, extra: extra.length, missingSample: missing.slice(0, 20), extraSample: extra.slice(0, 20) }
}

/** The `value` of each JSON line evt printed (`tail -f json`), as strings. */
export function jsonValues(lines: string[]): string[] {
  return lines.map((l) => {
    const v = (JSON.parse(l) as { value: unknown }).value
    return typeof v === 'string' ? v : JSON.stringify(v)
  })
}

/** What a failure message shows of a process: its exit and the end of its stderr. */
export function describeExit(p: EvtProcess | EvtExit): string {
  const exit = 'child' in p ? p.exited() : p
  const stderr = 'child' in p ? p.stderr() : p.stderr
  return `${exit ? `exit ${exit.code ?? exit.signal}${exit.killed ? ' (killed by the test bound)' : ''}` : 'still running'}; stderr:\n${stderr.slice(-4000)}`
}
