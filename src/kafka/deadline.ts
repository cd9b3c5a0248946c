/**
 * Deadlines for waits on the network.
 */
import type { Connection } from '../config/connection.ts'
import { EvtError, mapKafkaError } from '../errors.ts'

/**
 * Runs `promise` against a deadline of `connection.timeoutMs`.
 * @throws EvtError (connect, exit 3) naming the brokers when the deadline passes; client errors are mapped.
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
 * Waits for `promise` at most `ms`, ignoring its outcome: for clean-ups (disconnect, abort) that
 * may never answer on a dead broker.
 */
export async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise.catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
}
