/**
 * The kafkajs client factory: the one place that builds a `Kafka` from a {@link Connection}.
 * kafkajs is CommonJS: its default export is destructured here (named ESM imports fail).
 */
import kafkajs from 'kafkajs'
import type { Admin, Kafka, KafkaConfig, Producer, ProducerConfig } from 'kafkajs'
import type { Connection } from '../config/connection.ts'
import { EvtError, mapKafkaError } from '../errors.ts'

const { Kafka: KafkaClass, logLevel } = kafkajs

/**
 * Creates a kafkajs client. Logging is off unless `connection.verbose` (then kafkajs logs go to
 * stderr as one JSON line each). Retries are bounded so that an unreachable cluster fails within
 * about `connection.timeoutMs`.
 */
export function createKafka(connection: Connection): Kafka {
  const timeout = Math.max(1000, connection.timeoutMs)
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.ssl as KafkaConfig['ssl'],
    sasl: connection.sasl as KafkaConfig['sasl'],
    connectionTimeout: Math.min(timeout, 10_000),
    authenticationTimeout: Math.min(timeout, 10_000),
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: Math.min(timeout, 5000) },
    logLevel: connection.verbose ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry) => {
      process.stderr.write(`${JSON.stringify({ level: entry.label, namespace: entry.namespace, ...entry.log })}\n`)
    },
  }
  return new KafkaClass(config)
}

/**
 * Runs `promise` against a deadline of `connection.timeoutMs`.
 * @throws EvtError (connect, exit 3) naming the brokers when the deadline passes; kafkajs errors are mapped.
 */
export async function withDeadline<T>(connection: Connection, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new EvtError('connect', `cannot connect to Kafka at ${connection.brokers.join(',')}: no answer to ${what} within ${connection.timeoutMs} ms`, {
        hint: 'check that the brokers are up and reachable (-b/--brokers, EVT_BROKERS or the profile), TLS/SASL settings, or raise --timeout',
      }))
    }, connection.timeoutMs)
  })
  try {
    return await Promise.race([promise, deadline])
  } catch (err) {
    throw mapKafkaError(err, { brokers: connection.brokers })
  } finally {
    clearTimeout(timer)
    promise.catch(() => {}) // the loser of the race must not become an unhandled rejection
  }
}

/**
 * Connects an admin client within the deadline, runs `fn`, and always disconnects.
 * @throws EvtError mapped from kafkajs (connect/auth → 3, unknown topic/group → 4).
 */
export async function withAdmin<T>(connection: Connection, fn: (admin: Admin, kafka: Kafka) => Promise<T>): Promise<T> {
  const kafka = createKafka(connection)
  const admin = kafka.admin({ retry: { retries: 3, initialRetryTime: 100, maxRetryTime: Math.min(connection.timeoutMs, 5000) } })
  try {
    await withDeadline(connection, 'connect', admin.connect())
    return await fn(admin, kafka)
  } catch (err) {
    throw mapKafkaError(err, { brokers: connection.brokers })
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/**
 * Connects an idempotent producer within the deadline. The caller disconnects it.
 * @throws EvtError mapped from kafkajs.
 */
export async function connectProducer(connection: Connection, kafka: Kafka, config: ProducerConfig = {}): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, ...config })
  try {
    await withDeadline(connection, 'connect', producer.connect())
  } catch (err) {
    await producer.disconnect().catch(() => {})
    throw err
  }
  return producer
}
