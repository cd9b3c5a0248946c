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

/**
 * Connects a client within `connection.timeoutMs`. When connecting fails or the deadline passes,
 * the client is disconnected (waiting at most 3 s): a connect abandoned by a deadline must not
 * go on retrying in the background and hold sockets and timers that keep the process alive.
 * @throws EvtError connect/auth (exit 3), mapped from the client's error.
 */
export async function connectWithin(connection: Connection, what: string, connect: () => Promise<void>, disconnect: () => Promise<void>): Promise<void> {
  try {
    await withDeadline(connection, what, connect())
  } catch (err) {
    await bounded(disconnect(), 3000)
    throw err
  }
}

/**
 * The watchdog for one operation on a connected client (a send, a commit, an offsets request):
 * waits for `promise` at most `ms`. A stall past the deadline becomes an error the caller's
 * retry path handles (a new connection, a new producer) instead of a wait without end.
 * @throws EvtError connect (exit 3) "no answer from Kafka to <what> within <ms> ms"; the
 *   operation's own error otherwise (unchanged).
 */
export async function watchdog<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EvtError('connect', `no answer from Kafka to ${what} within ${ms} ms`, { hint: 'a broker may be down or frozen: check the brokers, or raise --timeout' })), ms)
  })
  try {
    return await Promise.race([promise, stalled])
  } finally {
    clearTimeout(timer)
    promise.catch(() => {})
  }
}

/**
 * How long one operation may take before {@link watchdog} gives up on it, ms: two request
 * timeouts (the client's own retry after a timed-out request) plus 5 s of retry backoff.
 */
export function operationDeadlineMs(connection: Connection): number {
  return 2 * Math.max(1000, connection.timeoutMs) + 5000
}
