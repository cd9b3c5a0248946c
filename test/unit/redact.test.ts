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
