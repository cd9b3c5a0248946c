import { describe, expect, it } from 'vitest'
import { isClientCertificateAlert, mapKafkaError, tlsAlert } from '../../src/errors.ts'
import { describeTokenProblem, oauthBearerInitialResponse, parseOauthBearerServerMessage } from '../../src/kafka/oauth.ts'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const NOW = Date.parse('2026-05-01T12:00:00Z')

describe('OAUTHBEARER messages (RFC 7628)', () => {
  it('the initial response is the GS2 header, auth=Bearer and the %x01 separators', () => {
    expect(oauthBearerInitialResponse('abc.def.')).toEqual(Buffer.from('n,,\u0001auth=Bearer abc.def.\u0001\u0001'))
  })

  it('an empty server message is success; the JSON error gives its status and scope', () => {
    expect(parseOauthBearerServerMessage(Buffer.alloc(0))).toBeUndefined()
    expect(parseOauthBearerServerMessage(Buffer.from('{"status":"invalid_token"}'))).toEqual({ status: 'invalid_token', scope: undefined })
    expect(parseOauthBearerServerMessage(Buffer.from('{"status":"insufficient_scope","scope":"kafka"}'))).toEqual({ status: 'insufficient_scope', scope: 'kafka' })
    expect(parseOauthBearerServerMessage(Buffer.from('no json'))).toEqual({ status: 'no json' })
  })
})

describe('describeTokenProblem', () => {
  const token = (claims: unknown) => `${b64({ alg: 'none' })}.${b64(claims)}.`
  it('names an expired token with its exp, in seconds, minutes, hours or days', () => {
    expect(describeTokenProblem(token({ sub: 'a', exp: NOW / 1000 - 30 }), NOW)).toBe('it expired 30 s ago (exp 2026-05-01T11:59:30Z)')
    expect(describeTokenProblem(token({ sub: 'a', exp: NOW / 1000 - 7200 }), NOW)).toBe('it expired 2 h ago (exp 2026-05-01T10:00:00Z)')
    expect(describeTokenProblem(token({ sub: 'a', exp: NOW / 1000 - 3 * 86_400 }), NOW)).toBe('it expired 3 days ago (exp 2026-04-28T12:00:00Z)')
  })
  it('names a token not yet valid, one without exp, and one that is not a JWT', () => {
    expect(describeTokenProblem(token({ exp: NOW / 1000 + 600, nbf: NOW / 1000 + 60 }), NOW)).toBe('it is not valid before 2026-05-01T12:01:00Z (nbf)')
    expect(describeTokenProblem(token({ sub: 'a' }), NOW)).toBe('it has no exp claim')
    expect(describeTokenProblem('opaque-token', NOW)).toBe('it is not a JWT (expected header.payload.signature, base64url)')
    expect(describeTokenProblem('a.!!!.c', NOW)).toBe('it is not a JWT (its payload is not a JSON object)')
  })
  it('says nothing about a current token', () => {
    expect(describeTokenProblem(token({ sub: 'a', exp: NOW / 1000 + 600 }), NOW)).toBeUndefined()
  })
})

describe('TLS alerts', () => {
  const alert = (code: string) => Object.assign(new Error('ssl alert'), { code })
  it('reads the alert from Node\'s error code, in OpenSSL 1 and 3 spellings, also inside a cause', () => {
    expect(tlsAlert(alert('ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN'))).toBe('certificate unknown')
    expect(tlsAlert(alert('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'))).toBe('bad certificate')
    expect(tlsAlert(alert('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toBe('certificate required')
    expect(tlsAlert({ name: 'KafkaJSConnectionError', originalError: alert('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA') })).toBe('unknown ca')
    expect(tlsAlert(alert('ECONNRESET'))).toBeUndefined()
    expect(isClientCertificateAlert('certificate unknown')).toBe(true)
    expect(isClientCertificateAlert('protocol version')).toBe(false)
  })
  it('maps a refused client certificate and any other alert to connect errors (exit 3)', () => {
    const refused = mapKafkaError(alert('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), { brokers: ['b:9'] })
    expect([refused.exitCode, refused.message]).toEqual([3, 'the broker at b:9 refused the TLS handshake with alert "bad certificate": it did not accept the client certificate (or none was sent)'])
    expect(refused.hint).toMatch(/^set tls\.cert and tls\.key/)
    const other = mapKafkaError(alert('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), { brokers: ['b:9'] })
    expect([other.exitCode, other.message]).toEqual([3, 'TLS handshake with b:9 failed: the broker sent alert "protocol version"'])
  })
})
