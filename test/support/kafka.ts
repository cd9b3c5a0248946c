/**
 * Helpers for integration and e2e tests against the local cluster started by global-setup.ts:
 * unique topics, fixture producers (plain kafkajs, independent of the code under test), and a
 * runner for bin/run.js as a subprocess.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import type { Admin, Message } from 'kafkajs'
import type { Connection } from '../../src/config/connection.ts'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import { openSession, type KafkaSession } from '../../src/kafka/session.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { produceRecords, type ProduceRecord } from '../../src/services/produce.ts'
import { tailRecords } from '../../src/services/tail.ts'

export const BROKERS = ['127.0.0.1:9092']
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A connection for calling services directly. */
export function testConnection(overrides: Partial<Connection> = {}): Connection {
  return { brokers: BROKERS, clientId: 'evt-test', timeoutMs: 10_000, verbose: false, ...overrides }
}

/** Sessions opened by {@link testSession} in this test file, closed after it (test/support/sessions.ts). */
const openedSessions: KafkaSession[] = []

/**
 * A Kafka session for calling services directly (on {@link testConnection} with `overrides`).
 * Every session opened this way is closed after the test file (test/support/sessions.ts).
 */
export function testSession(overrides: Partial<Connection> = {}): KafkaSession {
  const session = openSession(testConnection(overrides))
  openedSessions.push(session)
  return session
}

/** Closes every session {@link testSession} opened so far. */
export async function closeTestSessions(): Promise<void> {
  await Promise.all(openedSessions.splice(0).map((s) => s.close()))
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export function kafka(): InstanceType<typeof kafkajs.Kafka> {
  return new kafkajs.Kafka({ brokers: BROKERS, clientId: 'evt-test-fixture', logLevel: kafkajs.logLevel.NOTHING })
}

export async function withTestAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

/** Creates a topic and waits until its partitions have leaders. */
export async function createTopic(topic: string, partitions = 3, configEntries: Array<{ name: string; value: string }> = []): Promise<string> {
  await withTestAdmin(async (admin) => {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }], waitForLeaders: true })
    } catch (err) {
      // KRaft propagates new topics' metadata asynchronously: kafkajs's wait for leaders can see
      // "does not host this topic-partition" for a moment. Wait for the leaders ourselves then.
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err
    }
    const deadline = Date.now() + 15_000
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined)
      const ps = meta?.topics[0]?.partitions ?? []
      if (ps.length === partitions && ps.every((p) => p.leader >= 0)) return
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 15 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  })
  return topic
}

/** Writes fixture records with kafkajs (not evt's producer). Returns nothing; read back with evt. */
export async function produceFixture(topic: string, messages: Message[], options: { compression?: number } = {}): Promise<void> {
  const producer = kafka().producer({ idempotent: true, createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    await producer.send({ topic, messages, compression: options.compression })
  } finally {
    await producer.disconnect()
  }
}

/** Result of running the CLI as a subprocess. */
export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  stdoutBytes: Buffer
  ms: number
}

/** Runs `bin/run.js` with args (built dist/ must exist: npm test builds first). */
export function runEvt(args: string[], options: { input?: string | Buffer; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', EVT_BROKERS: BROKERS.join(','), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes, ms: Date.now() - started })
    })
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}

/** Starts `bin/run.js` with args without waiting: for tests that signal it (SIGKILL after 45 s). */
export function startEvt(args: string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', EVT_BROKERS: BROKERS.join(',') }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')))
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')))
  const killer = setTimeout(() => child.kill('SIGKILL'), 45_000)
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => {
    clearTimeout(killer)
    resolve(code)
  }))
  return { child, stdout: () => out, stderr: () => err, exit }
}

/** Polls until `check` is true; false at the deadline. */
export async function eventually(check: () => boolean | Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

/**
 * A kafkajs consumer that has joined `group` (subscribed to `topic`): an active member, as a
 * running service would be. It starts at the group's committed offsets, or at the end where there
 * are none, so it does not move offsets the test looks at. Disconnect it to leave.
 */
export async function joinedConsumer(group: string, topic: string): Promise<{ disconnect: () => Promise<void> }> {
  const consumer = kafka().consumer({ groupId: group })
  await consumer.connect()
  await consumer.subscribe({ topic })
  let joined!: () => void
  const isJoined = new Promise<void>((r) => (joined = r))
  consumer.on(consumer.events.GROUP_JOIN, () => joined())
  void consumer.run({ eachMessage: async () => {} })
  await isJoined
  return consumer
}

/** Parses JSON lines output. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Writes records with evt's own produce service (ordered, duplicate and null headers as given). */
export async function writeWithEvt(topic: string, records: ProduceRecord[]): Promise<void> {
  for await (const _ of produceRecords(testSession(), records, { topic })) void _
}

/** Every record of `topic` from the start to the end taken now, read with evt's tail service (read_committed). */
export async function readWithEvt(topic: string): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(testSession(), { topics: [topic], range: parsePositionRange('start:end') })) out.push(...chunk)
  return out
}
