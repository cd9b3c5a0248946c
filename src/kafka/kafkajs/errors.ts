/**
 * kafkajs's error names, as the adapter and evt's error mapping (src/errors.ts, which matches on
 * names and Kafka error types as strings, never on classes) know them.
 */

/** A broker connection closed under a request: the broker is dropped from the pool and reconnected on the next use. */
export const CONNECTION_CLOSED_ERROR = 'KafkaJSConnectionClosedError'

/** SASL authentication refused: mapped to `auth` (exit 3). */
export const SASL_AUTHENTICATION_ERROR = 'KafkaJSSASLAuthenticationError'

/** Errors that mean "cannot reach the cluster" when their message says so: mapped to `connect` (exit 3). */
export const CONNECT_ERRORS = ['KafkaJSConnectionError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSNonRetriableError', CONNECTION_CLOSED_ERROR] as const

/** Every kafkajs error's name starts with this (the base command maps such errors when they escape a command). */
export const ERROR_NAME_PREFIX = 'KafkaJS'

/**
 * Kafka's CONCURRENT_TRANSACTIONS (error code 51) as kafkajs types it: the transaction coordinator is still completing
 * the producer's previous transaction (EndTxn answers once PrepareCommit is logged; the markers are written after).
 * The first AddOffsetsToTxn / AddPartitionsToTxn of the next transaction gets it, and clients are expected to retry.
 */
export const CONCURRENT_TRANSACTIONS = 'CONCURRENT_TRANSACTIONS'
