/**
 * The one redaction function: URL credentials (up to the last @ before the host) and registered
 * secrets, in text and in JSON-like values.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { clearSecrets, redact, redactDeep, redactUrlCredentials, registerSecret, registerUrlSecret } from '../../src/redact.ts'
import { redactProfile } from '../../src/config/profiles.ts'

afterEach(() => clearSecrets())

describe('redactUrlCredentials', () => {
  it.each([
    ['http://u:p@host:8081/x', 'http://u:<redacted>@host:8081/x'],
    ['http://u:p@ss@host', 'http://u:<redacted>@host'],
    ['https://bob:a@b@c@registry.example.com/apis?x=y@z', 'https://bob:<redacted>@registry.example.com/apis?x=y@z'],
    ['see https://u:pw@h1/a and http://v:pw2@h2', 'see https://u:<redacted>@h1/a and http://v:<redacted>@h2'],
    ['http://tokenonly@host', 'http://<redacted>@host'],
    ['http://u:@host', 'http://u:<redacted>@host'],
    ['cannot reach the schema registry at HTTPS://U:P%40SS@host (ECONNREFUSED)', 'cannot reach the schema registry at HTTPS://U:<redacted>@host (ECONNREFUSED)'],
    ['no credentials: http://host/x@y, mail a@b.c', 'no credentials: http://host/x@y, mail a@b.c'],
    // a PostgreSQL user name is no secret (psql prints it); its password always is
    ['hint: e.g. postgres://evt@127.0.0.1:5432/evt', 'hint: e.g. postgres://evt@127.0.0.1:5432/evt'],
    ['e.g. --db postgresql://user@host:5432/dbname', 'e.g. --db postgresql://user@host:5432/dbname'],
    ['--db "postgres://evt:s3cret@db:5432/shop" is not a URL', '--db "postgres://evt:<redacted>@db:5432/shop" is not a URL'],
    ['POSTGRES://evt:p@ss@db/shop', 'POSTGRES://evt:<redacted>@db/shop'],
    ['postgres://:only-pass@db/shop', 'postgres://:<redacted>@db/shop'],
    // other schemes: a bare userinfo may be a token
    ['https://ghp_token@github.com/x', 'https://<redacted>@github.com/x'],
    ['kafka://secret-token@broker:9092', 'kafka://<redacted>@broker:9092'],
    // a password in the query (libpq, pg)
    ['postgres://evt@db/shop?password=s3cret', 'postgres://evt@db/shop?password=<redacted>'],
    ['"postgres://db/shop?sslmode=require&password=s3&cret=1&sslpassword=k3y#frag" failed', '"postgres://db/shop?sslmode=require&password=<redacted>&cret=1&sslpassword=<redacted>#frag" failed'],
    ['(cannot reach postgres://db/shop?PASSWORD=s3cret)', '(cannot reach postgres://db/shop?PASSWORD=<redacted>)'],
    ['no URL: ?password=x, http://h/p?passwords=y&mypassword=z', 'no URL: ?password=x, http://h/p?passwords=y&mypassword=z'],
  ])('%s', (text, shown) => {
    expect(redactUrlCredentials(text)).toBe(shown)
  })
})

describe('redact', () => {
  it('replaces registered secrets, longest first, and their percent-encoded form', () => {
    registerSecret('s3cret')
    registerSecret('s3cret-longer')
    registerSecret('p@ss w')
    expect(redact('a s3cret-longer b s3cret c p%40ss%20w')).toBe('a <redacted> b <redacted> c <redacted>')
  })

  it('ignores too-short and non-string secrets', () => {
    registerSecret('ab')
    registerSecret(undefined)
    registerSecret(12345)
    expect(redact('abc 12345')).toBe('abc 12345')
  })

  it('registerUrlSecret registers the password of a URL, decoded too', () => {
    registerUrlSecret('http://u:p%40ss-word@host')
    expect(redact('p@ss-word / p%40ss-word')).toBe('<redacted> / <redacted>')
  })

  it('registerUrlSecret registers a bare token, but not the user name of a PostgreSQL URL', () => {
    registerUrlSecret('https://tok-en-123@registry.example.com')
    registerUrlSecret('postgres://evt@db:5432/shop')
    expect(redact('token tok-en-123 of user evt, see postgres://evt@127.0.0.1:5432/evt')).toBe('token <redacted> of user evt, see postgres://evt@127.0.0.1:5432/evt')
  })

  it('a hint with an example URL comes out as written; a password in the same message does not', () => {
    registerUrlSecret('postgres://evt:pg-s3cret@db/shop')
    const shown = redact('evt: cannot connect to postgres://evt:pg-s3cret@db/shop (pg-s3cret rejected)\n  hint: e.g. --db postgres://evt@127.0.0.1:5432/evt')
    expect(shown).toBe('evt: cannot connect to postgres://evt:<redacted>@db/shop (<redacted> rejected)\n  hint: e.g. --db postgres://evt@127.0.0.1:5432/evt')
  })

  it('redactDeep redacts strings inside values (before JSON escaping), errors included', () => {
    registerSecret('q"uote\\secret')
    const out = redactDeep({ message: 'has q"uote\\secret', nested: [{ url: 'http://u:x@h' }], n: 1, err: new Error('boom q"uote\\secret') })
    expect(JSON.stringify(out)).not.toContain('uote')
    expect(out.nested[0].url).toBe('http://u:<redacted>@h')
    expect(out.n).toBe(1)
  })
})

describe('redactProfile', () => {
  it('a URL password containing @ is hidden whole', () => {
    const shown = JSON.stringify(redactProfile({ registry: 'http://u:p@ss@host' }))
    expect(shown).toBe('{"registry":"http://u:<redacted>@host"}')
    expect(shown).not.toContain('ss@')
  })

  it('a tokenCommand list is hidden whole', () => {
    expect(redactProfile({ sasl: { mechanism: 'oauthbearer', tokenCommand: ['vault', 'read', 'secret/x'] } })).toEqual({ sasl: { mechanism: 'oauthbearer', tokenCommand: '<redacted>' } })
  })
})
