/**
 * The kafkajs adapter's factory: the one place that builds a kafkajs `Kafka` from a
 * {@link Connection}, and the one place that patches kafkajs (ordered-header record encoding,
 * snappy/lz4/zstd codecs, the producer internals of produce-patches.ts) — installed here, before
 * any producer exists, whatever is used first.
 *
 * kafkajs is CommonJS: its default export is destructured (named ESM imports fail). It is pinned
 * (2.2.4): the fetch transport and the record encoder rely on internals frozen in that version.
 */
// first: kafkajs must find the cheaper producer internals when it loads (see produce-patches.ts)
import './produce-patches.ts'
import kafkajs from 'kafkajs'
import type { Kafka, KafkaConfig } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { redactDeep } from '../../redact.ts'
import type { KafkaClient } from '../types.ts'
import { connectAdmin } from './admin.ts'
import { connectGroupConsumer } from './consumer.ts'
import { oauthBearerMechanism } from './oauthbearer.ts'
import { registerKafkajsCodecs } from './codecs.ts'
import { installOrderedHeaderEncoding } from './record-encoding.ts'
import { connectFetchTransport } from './transport.ts'
import { connectTransactionalWriter, connectWriter } from './writer.ts'

const { Kafka: KafkaClass, logLevel } = kafkajs

/**
 * Creates a kafkajs client. Logging is off unless `connection.verbose` (then kafkajs logs go to
 * stderr as one JSON line each). Each request waits at most `connection.timeoutMs` (at least 1 s)
 * for its answer, and retries are bounded.
 */
export function createKafka(connection: Connection): Kafka {
  const timeout = Math.max(1000, connection.timeoutMs)
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.seedBrokers ?? connection.brokers,
    ssl: connection.ssl as KafkaConfig['ssl'],
    // OAUTHBEARER through evt's authenticator, which reads the broker's answer (./oauthbearer.ts)
    sasl: connection.sasl?.mechanism === 'oauthbearer' ? oauthBearerMechanism(connection.sasl.oauthBearerProvider) : (connection.sasl as KafkaConfig['sasl']),
    connectionTimeout: Math.min(timeout, 10_000),
    authenticationTimeout: Math.min(timeout, 10_000),
    // a broker that accepts but does not answer (frozen process) is given up on after --timeout
    requestTimeout: timeout,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: Math.min(timeout, 5000) },
    logLevel: connection.verbose ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry) => {
      process.stderr.write(`${JSON.stringify(redactDeep({ level: entry.label, namespace: entry.namespace, ...entry.log }))}\n`)
    },
  }
  return new KafkaClass(config)
}

/**
 * The kafkajs implementation of evt's {@link KafkaClient}: admin, fetch transport, idempotent
 * writer and transactional writer, all built from one kafkajs client. Installs the kafkajs
 * patches (both idempotent) before anything is connected.
 */
export function kafkajsClient(connection: Connection): KafkaClient {
  installOrderedHeaderEncoding()
  registerKafkajsCodecs()
  const kafka = createKafka(connection)
  return {
    connection,
    connectAdmin: () => connectAdmin(connection, kafka),
    connectFetchTransport: (isolation) => connectFetchTransport(connection, kafka, isolation),
    connectWriter: () => connectWriter(connection, kafka),
    connectTransactionalWriter: (transactionalId) => connectTransactionalWriter(connection, kafka, transactionalId),
    connectGroupConsumer: (groupId, topics) => connectGroupConsumer(connection, kafka, groupId, topics),
  }
}
