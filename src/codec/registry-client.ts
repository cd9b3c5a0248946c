/**
 * A small client for the Confluent schema-registry REST API (also served by Apicurio Registry
 * under /apis/ccompat/v7, and by Karapace, Redpanda, …): GET with basic auth and a timeout,
 * no retries (a registry that does not answer is reported at once, not after a minute).
 */
import http from 'node:http'
import https from 'node:https'
import type { Connection } from '../config/connection.ts'
import { redact } from '../redact.ts'

/** A schema reference: an import name and the subject/version that holds it. */
export interface SchemaReference {
  name: string
  subject: string
  version: number
}

/** A schema as the registry returns it (`GET /schemas/ids/{id}`, `/subjects/{s}/versions/{v}`). */
export interface RegistrySchemaResponse {
  schema: string
  /** AVRO (or absent), PROTOBUF, JSON. */
  schemaType?: string
  references?: SchemaReference[]
  id?: number
  subject?: string
  version?: number
  guid?: string
}

/** Why a registry call failed. `unreachable`: no usable answer (network, timeout, 5xx, 401/403). */
export class RegistryError extends Error {
  readonly status?: number
  /** Confluent error code (40401 subject not found, 40403 schema not found, …). */
  readonly code?: number
  readonly unreachable: boolean
  readonly auth: boolean

  constructor(message: string, options: { status?: number; code?: number; unreachable?: boolean; auth?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RegistryError'
    this.status = options.status
    this.code = options.code
    this.unreachable = Boolean(options.unreachable)
    this.auth = Boolean(options.auth)
  }
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Per request, ms (default 5000). */
  timeoutMs?: number
}

/** The Confluent REST API of one registry. */
export class RegistryClient {
  /** The registry's URL as messages show it: credentials redacted (src/redact.ts). */
  readonly url: string
  /** The URL requests go to, credentials included. */
  readonly #base: string
  readonly #auth?: string
  readonly #timeoutMs: number

  constructor(registry: NonNullable<Connection['registry']>, options: RegistryClientOptions = {}) {
    this.#base = registry.url.replace(/\/+$/, '')
    this.url = redact(this.#base)
    if (registry.username !== undefined) this.#auth = `Basic ${Buffer.from(`${registry.username}:${registry.password ?? ''}`).toString('base64')}`
    this.#timeoutMs = options.timeoutMs ?? 5000
  }

  /** GET a path (already encoded), parsed JSON. @throws RegistryError. */
  async get<T>(path: string): Promise<T> {
    let answer: { status: number; text: string }
    try {
      answer = await this.#request(path)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const reason = e.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : (e.code ?? redact(e.message))
      throw new RegistryError(`cannot reach the schema registry at ${this.url} (${reason})`, { unreachable: true, cause: err })
    }
    const { status, text } = answer
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T
      } catch {
        throw new RegistryError(`the schema registry at ${this.url} answered ${path} with something that is not JSON`, { status, unreachable: true })
      }
    }
    let body: { error_code?: number; message?: string } = {}
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      // not JSON: keep the status
    }
    const detail = body.message ? `: ${redact(body.message)}` : ''
    if (status === 401 || status === 403) {
      throw new RegistryError(`the schema registry at ${this.url} refused the credentials (HTTP ${status}${detail})`, { status, code: body.error_code, unreachable: true, auth: true })
    }
    throw new RegistryError(`GET ${path} → HTTP ${status}${body.error_code ? ` ${body.error_code}` : ''}${detail}`, { status, code: body.error_code, unreachable: status >= 500 })
  }

  /** One GET with node:http(s) (fetch refuses some ports, e.g. 1 and 6000). */
  #request(path: string): Promise<{ status: number; text: string }> {
    const target = new URL(`${this.#base}${path}`)
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' }
    if (this.#auth) headers.authorization = this.#auth
    const send = target.protocol === 'https:' ? https.get : http.get
    return new Promise((resolve, reject) => {
      const req = send(target, { headers, signal: AbortSignal.timeout(this.#timeoutMs) }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', (err) => reject(err.name === 'AbortError' && (err.cause as Error | undefined)?.name === 'TimeoutError' ? err.cause : err))
    })
  }

  /** `GET /schemas/ids/{id}`. */
  schemaById(id: number): Promise<RegistrySchemaResponse> {
    return this.get(`/schemas/ids/${id}`)
  }

  /** `GET /schemas/ids/{id}/versions`: the subjects and versions that hold this schema. */
  subjectsOfId(id: number): Promise<Array<{ subject: string; version: number }>> {
    return this.get(`/schemas/ids/${id}/versions`)
  }

  /** `GET /schemas/guids/{guid}` (newer Confluent registries; Apicurio and older ones answer 404). */
  schemaByGuid(guid: string): Promise<RegistrySchemaResponse> {
    return this.get(`/schemas/guids/${encodeURIComponent(guid)}`)
  }

  /** `GET /subjects/{subject}/versions/{version|latest}`. */
  subjectVersion(subject: string, version: number | 'latest'): Promise<RegistrySchemaResponse & { subject: string; version: number; id: number }> {
    return this.get(`/subjects/${encodeURIComponent(subject)}/versions/${version}`)
  }

  /** `GET /subjects`. */
  subjects(): Promise<string[]> {
    return this.get('/subjects')
  }

  /** `GET /subjects/{subject}/versions`. */
  versions(subject: string): Promise<number[]> {
    return this.get(`/subjects/${encodeURIComponent(subject)}/versions`)
  }
}
