/**
 * Before any client connects: which seed brokers answer at all. Each seed gets a TCP (or TLS)
 * connection and one ApiVersions v0 request (Kafka protocol, api key 18: allowed before SASL
 * authentication, answered by every broker version; https://kafka.apache.org/protocol#The_Messages_ApiVersions),
 * all in parallel, within the connection's deadline.
 *
 * This turns the two failures a client library reports slowly into immediate, precise ones:
 * a refused connection is known within milliseconds ("connection refused"), and a broker whose
 * process is frozen (the kernel accepts the connection, nobody answers) is named once the deadline
 * passes. Seeds that answered are handed to the client in answer order, so it never starts on a
 * seed that does not answer.
 */
import { X509Certificate } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import type { Connection } from '../config/connection.ts'
import { CLIENT_CERT_HINT, EvtError, isClientCertificateAlert, mapKafkaError, tlsAlert } from '../errors.ts'

/** How one seed broker answered the probe. */
export type ProbeOutcome =
  | { broker: string; ok: true; ms: number }
  | { broker: string; ok: false; reason: 'refused' | 'no-answer' | 'closed' | 'unreachable' | 'tls'; detail: string; error?: Error }

/** After the first seed answers, how long the others may still answer before the probe returns, ms. */
const GRACE_MS = 50

/** The ApiVersions v0 request with correlation id 1 and the given client id, framed (size prefix). */
export function apiVersionsRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8')
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length)
  body.writeInt16BE(18, 0) // api key: ApiVersions
  body.writeInt16BE(0, 2) // api version 0
  body.writeInt32BE(1, 4) // correlation id
  body.writeInt16BE(id.length, 8)
  id.copy(body, 10)
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length, 0)
  return Buffer.concat([size, body])
}

function splitHostPort(broker: string): { host: string; port: number } {
  const i = broker.lastIndexOf(':')
  const host = broker.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(broker.slice(i + 1)) }
}

/**
 * Probes one broker: connects and waits for the ApiVersions answer's header, at most `timeoutMs`.
 * Never throws; the outcome says what happened.
 */
export function probeBroker(connection: Connection, broker: string, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now()
  const { host, port } = splitHostPort(broker)
  return new Promise((resolve) => {
    let settled = false
    let answered = Buffer.alloc(0)
    const ssl = connection.ssl
    let socket: net.Socket
    try {
      socket = ssl
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(ssl === true ? {} : { ca: ssl.ca, cert: ssl.cert, key: ssl.key, passphrase: ssl.passphrase, rejectUnauthorized: ssl.rejectUnauthorized ?? true }) })
        : net.connect({ host, port })
    } catch (err) {
      // a TLS setting node:tls cannot use (a key that does not fit the certificate, …)
      resolve({ broker, ok: false, reason: 'tls', detail: (err as Error).message, error: err as Error })
      return
    }
    const done = (outcome: ProbeOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => {
      done({ broker, ok: false, reason: 'no-answer', detail: socket.connecting ? `no connection within ${timeoutMs} ms` : `accepted the connection but did not answer within ${timeoutMs} ms` })
    }, timeoutMs)
    socket.once(ssl ? 'secureConnect' : 'connect', () => socket.write(apiVersionsRequest(connection.clientId)))
    socket.on('data', (chunk: Buffer) => {
      answered = Buffer.concat([answered, chunk])
      // size (4 bytes) and correlation id (4 bytes) are enough to know the broker speaks Kafka
      if (answered.length >= 8) done(answered.readInt32BE(4) === 1 ? { broker, ok: true, ms: Date.now() - started } : { broker, ok: false, reason: 'closed', detail: 'answered with something that is not Kafka' })
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? ''
      if (code === 'ECONNREFUSED') done({ broker, ok: false, reason: 'refused', detail: 'connection refused', error: err })
      else if (['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL'].includes(code)) done({ broker, ok: false, reason: 'unreachable', detail: `${code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'unknown host' : 'unreachable'} (${code})`, error: err })
      else if (ssl && code !== 'ECONNRESET') done({ broker, ok: false, reason: 'tls', detail: err.message, error: err })
      else done({ broker, ok: false, reason: 'closed', detail: `closed the connection (${code || err.message})${ssl ? '' : ': is this a TLS listener? set tls in the profile'}`, error: err })
    })
    socket.once('close', () => done({ broker, ok: false, reason: 'closed', detail: `closed the connection without answering${ssl ? '' : ': is this a TLS or SASL listener? check the profile'}` }))
  })
}

/**
 * Probes every seed broker of `connection` in parallel, within `connection.timeoutMs`.
 * @returns the seeds that answered, fastest first (at least one).
 * @throws EvtError connect (exit 3) when none answered: the message names each broker and why
 *   ("connection refused", "accepted the connection but did not answer within 5000 ms", …);
 *   a TLS failure is reported as such.
 */
export async function probeBrokers(connection: Connection): Promise<string[]> {
  const timeoutMs = Math.max(1, connection.timeoutMs)
  const answered: string[] = []
  const outcomes = await new Promise<ProbeOutcome[]>((resolve) => {
    const all: ProbeOutcome[] = []
    let grace: NodeJS.Timeout | undefined
    for (const broker of connection.brokers) {
      void probeBroker(connection, broker, timeoutMs).then((o) => {
        all.push(o)
        if (o.ok) {
          answered.push(o.broker)
          grace ??= setTimeout(() => resolve(all), GRACE_MS)
        }
        if (all.length === connection.brokers.length) {
          clearTimeout(grace)
          resolve(all)
        }
      })
    }
  })
  if (answered.length) return [...answered]
  const failures = outcomes.filter((o): o is Extract<ProbeOutcome, { ok: false }> => !o.ok)
  const refusedCert = failures.find((f) => isClientCertificateAlert(tlsAlert(f.error)))
  if (refusedCert) throw clientCertificateRefused(connection, refusedCert.broker, tlsAlert(refusedCert.error)!, refusedCert.error)
  const tlsFailure = failures.find((f) => f.reason === 'tls')
  if (tlsFailure?.error) throw mapKafkaError(tlsFailure.error, { brokers: connection.brokers })
  const byReason = new Set(failures.map((f) => f.detail))
  const message = byReason.size === 1
    ? `cannot connect to Kafka at ${connection.brokers.join(',')}: ${failures[0].detail}`
    : `cannot connect to Kafka: ${connection.brokers.map((b) => `${b} ${failures.find((f) => f.broker === b)?.detail ?? 'did not answer'}`).join('; ')}`
  const frozen = failures.some((f) => f.reason === 'no-answer')
  throw new EvtError('connect', message, {
    hint: frozen
      ? 'the broker process may be stopped, overloaded or behind a proxy that holds connections: check it, or raise --timeout'
      : 'check that the brokers are up and reachable, the address and port (-b/--brokers, EVT_BROKERS, or the profile), and TLS/SASL settings',
  })
}

/**
 * The error for a broker that ended the TLS handshake with a certificate alert (`alert`, e.g.
 * "certificate unknown"): it wants a client certificate and none was configured, or it does not
 * accept the one that was (named by subject and issuer, and by its end date when that has passed).
 */
function clientCertificateRefused(connection: Connection, broker: string, alert: string, cause: unknown): EvtError {
  const cert = connection.ssl && connection.ssl !== true ? connection.ssl.cert : undefined
  if (!cert) {
    return new EvtError('connect', `the broker at ${broker} requires a client certificate (mutual TLS) and the profile has none: the TLS handshake ended with alert "${alert}"`, { hint: CLIENT_CERT_HINT, cause })
  }
  let which = 'the client certificate'
  try {
    const x509 = new X509Certificate(cert)
    const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ')
    const expired = Date.parse(x509.validTo) < Date.now() ? `, expired ${new Date(x509.validTo).toISOString()}` : ''
    which = `the client certificate "${oneLine(x509.subject)}" (issued by "${oneLine(x509.issuer)}"${expired})`
  } catch {
    /* not parseable here: the generic wording */
  }
  return new EvtError('connect', `the broker at ${broker} refused ${which}: the TLS handshake ended with alert "${alert}"`, { hint: CLIENT_CERT_HINT, cause })
}
