/**
 * SASL OAUTHBEARER for kafkajs, reading the broker's answer. kafkajs 2.2.4's built-in
 * authenticator sends the token and ignores what the broker answers, so a refused token passes as
 * authenticated and the broker then closes the connection on the next request: the user saw
 * "cannot connect". This one follows RFC 7628 §3.2 (src/kafka/oauth.ts): a non-empty answer is
 * the broker's error, acknowledged with %x01, and authentication fails with its status and what
 * the token shows (expired, not a JWT), never the token itself.
 */
import kafkajs from 'kafkajs'
import type { AuthenticationProviderArgs, Authenticator, Mechanism } from 'kafkajs'
import { describeTokenProblem, oauthBearerInitialResponse, parseOauthBearerServerMessage } from '../oauth.ts'

/** kafkajs's SASL error (non-retriable); its type declaration forgets the message argument. */
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error

/**
 * Frames SASL bytes as kafkajs's SaslAuthenticate request expects them: an INT32 length, then the
 * bytes (the request writes them as they are into its BYTES field).
 */
function framed(bytes: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(bytes.length, 0)
  return Buffer.concat([size, bytes])
}

/** kafkajs hands the server's SaslAuthenticate auth bytes back framed the same way (INT32 length + bytes). */
function unframed(bytes: Buffer): Buffer {
  return bytes.length >= 4 && bytes.readInt32BE(0) === bytes.length - 4 ? bytes.subarray(4) : bytes
}

/**
 * A kafkajs SASL mechanism `oauthbearer` whose token comes from `tokenProvider` (called on every
 * authentication of every connection).
 * @throws (from authenticate) KafkaJSSASLAuthenticationError, not retriable: "SASL OAUTHBEARER
 *   authentication failed: the broker rejected the token (invalid_token): it expired 2 h ago (exp …)"
 */
export function oauthBearerMechanism(tokenProvider: () => Promise<{ value: string }>): Mechanism {
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: ({ host, port, logger, saslAuthenticate }: AuthenticationProviderArgs): Authenticator => ({
      authenticate: async () => {
        const { value: token } = await tokenProvider()
        if (!token) throw new KafkaJSSASLAuthenticationError('SASL OAUTHBEARER: the token is empty')
        const broker = `${host}:${port}`
        logger.debug('Authenticate with SASL OAUTHBEARER', { broker })
        const answer = await saslAuthenticate<Buffer>({
          request: { encode: () => framed(oauthBearerInitialResponse(token)) },
          response: { decode: (raw: Buffer) => unframed(raw), parse: (data: Buffer) => data },
        })
        const error = parseOauthBearerServerMessage(answer ?? Buffer.alloc(0))
        if (!error) {
          logger.debug('SASL OAUTHBEARER authentication successful', { broker })
          return
        }
        // RFC 7628 §3.2.3: the client acknowledges the error with %x01; the broker then fails the exchange
        await saslAuthenticate({ request: { encode: () => framed(Buffer.from([1])) } }).catch(() => {})
        const why = describeTokenProblem(token)
        const scope = error.scope ? `, scope needed: ${error.scope}` : ''
        throw new KafkaJSSASLAuthenticationError(`SASL OAUTHBEARER authentication failed: the broker rejected the token (${error.status}${scope})${why ? `: ${why}` : ''}`)
      },
    }),
  }
}
