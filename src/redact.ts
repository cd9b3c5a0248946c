/**
 * The one redaction function of evt. Everything evt prints about its configuration or its errors
 * (error messages and hints, `--verbose` causes, warnings, the Kafka client's verbose log lines,
 * `evt profiles` output) goes through {@link redact}, which hides:
 *
 * - URL credentials: in `scheme://userinfo@host…` the userinfo runs to the LAST `@` before the
 *   host (as WHATWG URL parsing reads `http://u:p@ss@host`), and becomes `user:<redacted>`: a
 *   password is always hidden. Userinfo without a `:` is a user name in a PostgreSQL URL
 *   (`postgres://evt@db/shop`, as psql prints it) and is kept, so hints and examples read right;
 *   in every other scheme it is hidden whole (`https://<token>@host` carries a bare token);
 * - the value of a `password=` (or `sslpassword=`) query parameter of a URL, which libpq and the
 *   pg client read as the password;
 * - every secret registered with {@link registerSecret}: passwords from the profile (literal or
 *   from `${VAR}`), the password part of registry URLs, the bearer token a `tokenCommand`
 *   printed, and the values of environment variables a `tokenCommand` refers to.
 *
 * Secrets shorter than {@link MIN_SECRET_LENGTH} characters are not replaced in free text (every
 * `a` of a message would go); such a secret is still never printed by `evt profiles`.
 */

/** What a hidden value is replaced by. */
export const REDACTED = '<redacted>'

/** Registered secrets shorter than this are not searched for in free text. */
export const MIN_SECRET_LENGTH = 3

const secrets = new Set<string>()

/**
 * Remembers a value that must never be printed. Non-strings, empty and too-short strings are
 * ignored. Idempotent.
 */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return
  secrets.add(value)
  // the same secret as it appears percent-encoded in a URL
  const encoded = encodeURIComponent(value)
  if (encoded !== value) secrets.add(encoded)
}

/**
 * Registers the password (or bare token) of a URL's credentials, if it has any; the user name of
 * a PostgreSQL URL without a password is no secret (see the module comment) and is not registered.
 */
export function registerUrlSecret(url: string): void {
  for (const m of url.matchAll(URL_CREDENTIALS)) {
    const userinfo = m[2]
    const colon = userinfo.indexOf(':')
    if (colon < 0 && USER_NAME_SCHEMES.test(m[1])) continue
    const secret = colon >= 0 ? userinfo.slice(colon + 1) : userinfo
    registerSecret(secret)
    try {
      // the decoded form too (p%40ss → p@ss)
      registerSecret(decodeURIComponent(secret))
    } catch {
      // not valid percent-encoding: the raw form is registered
    }
  }
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear()
}

/**
 * `scheme://` then the userinfo up to the last `@` before the end of the authority (`/`, `?`,
 * `#`, `\` or whitespace): the greedy class backtracks to the last `@`.
 */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#\\]*)@/gi

/** Schemes whose userinfo without a `:` is a user name, not a secret (psql prints it). */
const USER_NAME_SCHEMES = /^postgres(ql)?:\/\/$/i

/** The query of a URL in a text: from `?` up to `#` or whitespace. */
const URL_QUERY = /([a-z][a-z0-9+.-]*:\/\/[^\s?#]*\?)([^\s#]*)/gi

/**
 * A `password=` or `sslpassword=` parameter in a query; its value runs to the next `&`, leaving out
 * quotes and closing parentheses that end the text around the URL.
 */
const PASSWORD_PARAM = /(^|&)((?:ssl)?password=)([^&]*?)(?=["')]*(?:&|$))/gi

/** Hides the credentials of every URL in a text (see the module comment). */
export function redactUrlCredentials(text: string): string {
  const out = text.replace(URL_CREDENTIALS, (whole: string, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`
    return USER_NAME_SCHEMES.test(scheme) ? whole : `${scheme}${REDACTED}@`
  })
  return out.replace(URL_QUERY, (_, head: string, query: string) => head + query.replace(PASSWORD_PARAM, (_m, sep: string, key: string) => `${sep}${key}${REDACTED}`))
}

/** Hides URL credentials and every registered secret in a text. */
export function redact(text: string): string {
  let out = redactUrlCredentials(text)
  // longest first, so a secret containing another one is replaced whole
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(REDACTED)
  }
  return out
}

/**
 * A copy of a JSON-like value with {@link redact} applied to every string (keys included), for
 * values that are printed as JSON: redacting before `JSON.stringify` also catches secrets that
 * JSON would escape. Errors become `{ name, message, stack }`.
 */
export function redactDeep<T>(value: T): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v)
    if (depth > 20 || v === null || typeof v !== 'object') return v
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1))
    if (v instanceof Error) return { name: v.name, message: redact(v.message), ...(v.stack ? { stack: redact(v.stack) } : {}) }
    if (Buffer.isBuffer(v)) return v
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x, depth + 1)]))
  }
  return walk(value, 0) as T
}
