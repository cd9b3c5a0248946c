/**
 * SASL OAUTHBEARER messages (RFC 7628) and what a bearer token says about why a broker may have
 * refused it. Pure functions; the client adapter does the exchange.
 *
 * The exchange (RFC 7628 §3.1–3.2, as Kafka's OAuthBearerSaslServer implements it): the client
 * sends its initial response with the token; an empty server message means success; a non-empty one
 * is an error (JSON `{"status": "invalid_token", "scope"?: …, "openid-configuration"?: …}`), to
 * which the client answers a single %x01 byte, and the server then fails the authentication.
 */

/** SOH, the key-value separator of RFC 7628 §3.1. */
const KVSEP = '\u0001'

/**
 * The client's initial response (RFC 7628 §3.1): GS2 header `n,,` (no channel binding, no
 * authorization identity), then `auth=Bearer <token>`, each key-value pair ended by %x01, and a
 * final %x01. Without SASL extensions.
 * @param token the bearer token (for Kafka's validators: a JWT, RFC 7519)
 * @returns the message bytes (UTF-8)
 */
export function oauthBearerInitialResponse(token: string): Buffer {
  return Buffer.from(`n,,${KVSEP}auth=Bearer ${token}${KVSEP}${KVSEP}`, 'utf8')
}

/** The error a server sends instead of success (RFC 7628 §3.2.2). */
export interface OauthBearerServerError {
  /** e.g. `invalid_token`, `insufficient_scope` (RFC 6750 §3.1), as the server sent it. */
  status: string
  /** The scope the server needs, when it says so. */
  scope?: string
}

/**
 * Reads a server message that follows the client's initial response.
 * @param bytes the server message (UTF-8 JSON), possibly empty
 * @returns undefined for an empty message (success), else the error (a message that is not the
 *   JSON of §3.2.2 becomes `{ status: <its text, at most 200 characters> }`)
 */
export function parseOauthBearerServerMessage(bytes: Buffer): OauthBearerServerError | undefined {
  if (bytes.length === 0) return undefined
  const text = bytes.toString('utf8')
  try {
    const json = JSON.parse(text) as Record<string, unknown>
    if (json && typeof json.status === 'string') return { status: json.status, scope: typeof json.scope === 'string' ? json.scope : undefined }
  } catch {
    /* not JSON */
  }
  return { status: text.slice(0, 200) }
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z')
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400)} days`
}

/**
 * What a bearer token shows that explains a refusal, without revealing it: only the registered
 * JWT claims `exp` and `nbf` (RFC 7519 §4.1.4–4.1.5, seconds since the epoch) of the payload
 * (the second base64url part of a JWS compact serialization, RFC 7515 §7.1) are read.
 * @param token the token as sent
 * @param nowMs the current time, ms since the epoch
 * @returns "it expired 2 h ago (exp 2026-01-01T10:00:00Z)", "it is not valid before …", "it is
 *   not a JWT (…)", or undefined when nothing in the token explains it
 */
export function describeTokenProblem(token: string, nowMs: number = Date.now()): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 && parts.length !== 5) return 'it is not a JWT (expected header.payload.signature, base64url)'
  let claims: Record<string, unknown>
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('not an object')
  } catch {
    // a JWE (5 parts) has an encrypted payload: nothing to read
    return parts.length === 3 ? 'it is not a JWT (its payload is not a JSON object)' : undefined
  }
  const exp = claims.exp
  if (typeof exp === 'number' && exp * 1000 <= nowMs) return `it expired ${ago(nowMs - exp * 1000)} ago (exp ${isoSeconds(exp)})`
  const nbf = claims.nbf
  if (typeof nbf === 'number' && nbf * 1000 > nowMs) return `it is not valid before ${isoSeconds(nbf)} (nbf)`
  if (exp === undefined) return 'it has no exp claim'
  return undefined
}
