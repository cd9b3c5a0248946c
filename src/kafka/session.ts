/**
 * The per-run Kafka session: what a command (or a test) hands to services. It opens clients
 * lazily, on first use, and reuses them for the whole run — one admin, one idempotent writer, one
 * reader per isolation level — and `close()` closes everything it opened, each disconnect capped
 * so that a dead broker cannot make closing hang.
 */
import type { Connection } from '../config/connection.ts'
import { EvtError } from '../errors.ts'
import { bounded } from './deadline.ts'
import { kafkajsClient } from './kafkajs/client.ts'
import { probeBrokers } from './probe.ts'
import { KafkaReader } from './reader.ts'
import type { GroupConsumer, Isolation, KafkaAdmin, KafkaClient, KafkaClientFactory, KafkaWriter, TransactionalWriter } from './types.ts'

/** How long `close()` waits for each client to disconnect, ms. */
export const CLOSE_TIMEOUT_MS = 3000

/**
 * Kafka for one run. Clients connect on first use (within `connection.timeoutMs`) and stay open
 * until {@link KafkaSession.close}; a client whose connect failed is not kept, so the next call
 * tries again. Services never close what they get from a session.
 */
export interface KafkaSession {
  /** Where and how to connect (also the registry and timeouts services read). */
  readonly connection: Connection
  /** The run's admin client. @throws EvtError connect/auth (exit 3). */
  admin(): Promise<KafkaAdmin>
  /** The run's partition reader for this isolation (default read_committed). @throws EvtError connect/auth (exit 3). */
  reader(isolation?: Isolation): Promise<KafkaReader>
  /** The run's idempotent writer. @throws EvtError connect/auth (exit 3). */
  writer(): Promise<KafkaWriter>
  /**
   * A new transactional writer with this id (connecting fences an earlier one with the same id).
   * Not shared: the caller may close it and ask for another (to recover from a failed transaction);
   * the session closes those still open. @throws EvtError connect/auth (exit 3).
   */
  transactionalWriter(transactionalId: string): Promise<TransactionalWriter>
  /**
   * A new member of consumer group `groupId` subscribed to `topics` (not shared; the session stops
   * it on close if the caller has not). @throws EvtError connect/auth (exit 3).
   */
  groupConsumer(groupId: string, topics: string[]): Promise<GroupConsumer>
  /** True while a client is being connected (the seed probe included). */
  readonly connecting: boolean
  /** Closes every client the session opened, each within {@link CLOSE_TIMEOUT_MS}. Never throws; idempotent. */
  close(): Promise<void>
}

/** Options of {@link openSession}. */
export interface SessionOptions {
  /**
   * Ends every connect in progress (the probe of a frozen broker included) at once when aborted,
   * with an EvtError interrupted (exit 130); later connects fail the same way.
   */
  signal?: AbortSignal
}

interface Closable {
  close(): Promise<void>
}

class Session implements KafkaSession {
  readonly connection: Connection
  private readonly factory: KafkaClientFactory
  private clientReady?: Promise<KafkaClient>
  /** The seed probe of {@link clientReady}: its verdict decides whether a connect counts. */
  private probed?: Promise<unknown>
  private adminClient?: Promise<KafkaAdmin>
  private writerClient?: Promise<KafkaWriter>
  private readonly readers = new Map<Isolation, Promise<KafkaReader>>()
  private readonly opened = new Set<Closable>()
  private closed = false
  private pending = 0
  private readonly signal?: AbortSignal

  constructor(connection: Connection, factory: KafkaClientFactory, options: SessionOptions = {}) {
    this.connection = connection
    this.factory = factory
    this.signal = options.signal
  }

  get connecting(): boolean {
    return this.pending > 0
  }

  /** `connect()`, counted in {@link connecting}, and ended at once by the session's signal. */
  private async interruptible<T>(connect: () => Promise<T>): Promise<T> {
    const signal = this.signal
    if (signal?.aborted) throw interrupted(this.connection)
    this.pending++
    let onAbort: (() => void) | undefined
    try {
      const attempt = connect()
      if (!signal) return await attempt
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () => {
          // a client that connects after all is closed, not leaked
          attempt.then((c) => (c && typeof (c as Partial<Closable>).close === 'function' ? bounded((c as unknown as Closable).close(), CLOSE_TIMEOUT_MS) : undefined), () => {})
          reject(interrupted(this.connection))
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })
      return await Promise.race([attempt, stopped])
    } finally {
      this.pending--
      if (onAbort) signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * The client, built once the seed brokers have been probed (probe.ts): a refused or frozen
   * cluster fails here, fast and named, and the client starts only on seeds that answered.
   * A failed probe is forgotten, so that a later call (a retry) probes again.
   */
  private client(): Promise<KafkaClient> {
    if (!this.clientReady) {
      if (this.connection.brokers.length === 1) {
        // One seed: the client is built on it at once and its first connect runs while the seed is
        // probed (see connected()), instead of after: one round trip and one connect less before
        // the first record. The probe's verdict still decides, with the same errors.
        const probe = this.interruptible(() => probeBrokers(this.connection))
        this.probed = probe
        this.clientReady = Promise.resolve().then(() => this.factory({ ...this.connection, seedBrokers: this.connection.brokers }))
        probe.catch(() => {
          this.clientReady = undefined
          this.probed = undefined
        })
      } else {
        this.clientReady = this.interruptible(() => probeBrokers(this.connection)).then((answering) => this.factory({ ...this.connection, seedBrokers: answering }))
        this.probed = this.clientReady
      }
      this.clientReady.catch(() => (this.clientReady = undefined))
    }
    return this.clientReady
  }

  /**
   * `connect(client)`, started as soon as the client exists; it counts only once the seed probe
   * answered. When the probe fails, its error is thrown (as if nothing else had been tried) and
   * whatever `connect` opens is closed.
   */
  private async connected<T extends Closable>(connect: (client: KafkaClient) => Promise<T>): Promise<T> {
    const client = await this.client()
    const probe = this.probed ?? Promise.resolve()
    const opening = connect(client)
    opening.catch(() => {})
    try {
      await probe
    } catch (err) {
      void opening.then((c) => bounded(c.close(), CLOSE_TIMEOUT_MS), () => {})
      throw err
    }
    return await opening
  }

  /** Connects once; a failed connect is forgotten so that the next call tries again. */
  private track<T extends Closable>(connect: () => Promise<T>, forget: () => void): Promise<T> {
    const pending = this.interruptible(connect).then((c) => {
      // connected after close() gave up waiting for it: close it now
      if (this.closed) void bounded(c.close(), CLOSE_TIMEOUT_MS)
      else this.opened.add(c)
      return c
    })
    pending.catch(forget)
    return pending
  }

  admin(): Promise<KafkaAdmin> {
    this.adminClient ??= this.track(() => this.connected((client) => client.connectAdmin()), () => (this.adminClient = undefined))
    return this.adminClient
  }

  reader(isolation: Isolation = 'read_committed'): Promise<KafkaReader> {
    let reader = this.readers.get(isolation)
    if (!reader) {
      reader = this.track(() => this.connected((client) => KafkaReader.open(client, isolation)), () => this.readers.delete(isolation))
      this.readers.set(isolation, reader)
    }
    return reader
  }

  writer(): Promise<KafkaWriter> {
    this.writerClient ??= this.track(() => this.connected((client) => client.connectWriter()), () => (this.writerClient = undefined))
    return this.writerClient
  }

  async transactionalWriter(transactionalId: string): Promise<TransactionalWriter> {
    const writer = await this.interruptible(() => this.connected((client) => client.connectTransactionalWriter(transactionalId)))
    const tracked: TransactionalWriter = {
      begin: () => writer.begin(),
      send: (topic, records) => writer.send(topic, records),
      sendBatch: (batches) => writer.sendBatch(batches),
      sendOffsets: (offsets) => writer.sendOffsets(offsets),
      commit: () => writer.commit(),
      abort: () => writer.abort(),
      close: async () => {
        this.opened.delete(tracked)
        await writer.close()
      },
    }
    this.opened.add(tracked)
    return tracked
  }

  async groupConsumer(groupId: string, topics: string[]): Promise<GroupConsumer> {
    const consumer = await this.interruptible(async () => (await this.client()).connectGroupConsumer(groupId, topics))
    const tracked: GroupConsumer & Closable = {
      run: (handle) => consumer.run(handle),
      stop: async () => {
        this.opened.delete(tracked)
        await consumer.stop()
      },
      close: () => tracked.stop(),
    }
    this.opened.add(tracked)
    return tracked
  }

  async close(): Promise<void> {
    this.closed = true
    // clients still connecting are closed once connected (or fail on their own)
    const connecting = [this.adminClient, this.writerClient, ...this.readers.values()]
    this.adminClient = undefined
    this.writerClient = undefined
    this.readers.clear()
    await Promise.all(connecting.map((p) => (p ? bounded(p, CLOSE_TIMEOUT_MS) : undefined)))
    const clients = [...this.opened]
    this.opened.clear()
    await Promise.all(clients.map((c) => bounded(c.close(), CLOSE_TIMEOUT_MS)))
  }
}

/**
 * Opens a session on `connection` (nothing connects until a client is asked for). `factory`
 * chooses the client adapter: kafkajs (src/kafka/kafkajs/) by default.
 */
export function openSession(connection: Connection, factory: KafkaClientFactory = kafkajsClient, options: SessionOptions = {}): KafkaSession {
  return new Session(connection, factory, options)
}

function interrupted(connection: Connection): EvtError {
  return new EvtError('interrupted', `interrupted while connecting to ${connection.brokers.join(',')}`)
}
