/**
 * Keys and values through a schema registry (Confluent API; Apicurio's ccompat API too):
 * Avro, Protobuf and JSON Schema, framed (`0x00` + schema id) or with the schema GUID in a
 * `__key_schema_id` / `__value_schema_id` header.
 *
 * Decoding stays synchronous per record (the hot paths need it): a {@link RegistryDecoder} is
 * made once per run; `await prepare(records)` fetches the schemas those records need that are
 * not cached yet (each id once per run, in parallel, with a short timeout), then
 * `decodeRecord(raw)` decodes from the cache. When the registry cannot be reached, it warns once
 * and records are shown raw (with `strict`, prepare throws a connect error: exit 3 instead).
 *
 * {@link RecordEncoder} does the reverse for `evt produce --value-schema …`.
 */
import type avro from 'avsc'
import type { Connection } from '../config/connection.ts'
import { EvtError, notFoundError, usageError } from '../errors.ts'
import type { Decoded, DecodedRecord, RawRecord } from '../record.ts'
import { avroFromJson, avroToJson, avroType } from './avro.ts'
import { decodeBytes, type DecodedWithText } from './decode.ts'
import { jsonSchemaValidator, type JsonValidator } from './json-schema.ts'
import { decodeProto, encodeProto, messageAt, protoSchema, typeName, type ProtoSchema } from './protobuf.ts'
import { RegistryClient, RegistryError, type RegistrySchemaResponse, type SchemaReference } from './registry-client.ts'
import { apicurioFraming, describeByte, encodeConfluentFrame, parseConfluentFrame, readMessageIndexes, schemaIdHeader, type RecordSide, type SchemaIdHeader } from './registry-framing.ts'

/** The three schema formats, named as evt's `*Encoding` fields name them. */
export type SchemaFormat = 'avro' | 'protobuf' | 'json-schema'

/** A registry schema, fetched and compiled (with its references). */
export interface ResolvedSchema {
  id?: number
  guid?: string
  format: SchemaFormat
  text: string
  references: SchemaReference[]
  /** Subjects and versions that hold this schema (`GET /schemas/ids/{id}/versions`); may be empty. */
  versions: Array<{ subject: string; version: number }>
  avro?: avro.Type
  proto?: ProtoSchema
  /** JSON Schema: the referenced schemas, for validation. */
  referenced: Array<{ name: string; schema: string }>
}

/** A lookup that came back: the schema, or why there is none (not found, does not parse). */
export type SchemaLookup = { schema: ResolvedSchema; error?: undefined } | { error: string; schema?: undefined }

/** `AVRO` / absent → avro, `PROTOBUF` → protobuf, `JSON` → json-schema. */
export function schemaFormat(schemaType: string | undefined): SchemaFormat | undefined {
  switch ((schemaType ?? 'AVRO').toUpperCase()) {
    case 'AVRO':
      return 'avro'
    case 'PROTOBUF':
      return 'protobuf'
    case 'JSON':
      return 'json-schema'
    default:
      return undefined
  }
}

/**
 * Fetches and compiles schemas, each once (by id, GUID, and subject/version for references).
 * Lookups that fail for good (404, a schema that does not parse) resolve to `{error}`; an
 * unreachable registry rejects with a {@link RegistryError} (`unreachable`).
 */
export class SchemaStore {
  readonly client: RegistryClient
  readonly #lookups = new Map<string, Promise<SchemaLookup>>()
  readonly #versions = new Map<string, Promise<RegistrySchemaResponse>>()

  constructor(client: RegistryClient) {
    this.client = client
  }

  /** The schema with this id. */
  byId(id: number): Promise<SchemaLookup> {
    return this.#once(`id:${id}`, async () => {
      let response: RegistrySchemaResponse
      try {
        response = await this.client.schemaById(id)
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404 && err.code === undefined) {
          throw new RegistryError(`GET ${this.client.url}/schemas/ids/${id} answered 404 without a registry error: is the URL the registry's API root? (Apicurio: …/apis/ccompat/v7)`, { status: 404, unreachable: true })
        }
        if (err instanceof RegistryError && !err.unreachable) return { error: `schema id ${id} ${err.status === 404 ? 'not found in the registry' : 'not available'} (${err.message.replace(/^GET \S+ → /, '')})` }
        throw err
      }
      const versions = await this.client.subjectsOfId(id).catch(() => [])
      return this.#compile({ ...response, id }, versions, `schema id ${id}`)
    })
  }

  /** The schema with this GUID (`GET /schemas/guids/{guid}`: newer Confluent registries only). */
  byGuid(guid: string): Promise<SchemaLookup> {
    return this.#once(`guid:${guid}`, async () => {
      let response: RegistrySchemaResponse
      try {
        response = await this.client.schemaByGuid(guid)
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404) {
          return { error: err.code === undefined ? 'this registry cannot look schema GUIDs up (GET /schemas/guids/{guid} → 404; Confluent Schema Registry 8+ can)' : `GUID not found in the registry (${err.code})` }
        }
        if (err instanceof RegistryError && !err.unreachable) return { error: `GUID lookup failed (${err.message})` }
        throw err
      }
      const versions = response.id !== undefined ? await this.client.subjectsOfId(response.id).catch(() => []) : []
      return this.#compile({ ...response, guid }, versions, `schema GUID ${guid}`)
    })
  }

  /**
   * The schema of a subject version (or `latest`), with its id.
   * @throws RegistryError (404 when the subject or version does not exist).
   */
  async bySubject(subject: string, version: number | 'latest'): Promise<ResolvedSchema> {
    const response = await this.client.subjectVersion(subject, version)
    const lookup = await this.#once(`id:${response.id}`, async () => this.#compile(response, [{ subject: response.subject ?? subject, version: response.version }], `${subject} version ${response.version}`))
    if (lookup.error !== undefined) throw new RegistryError(lookup.error)
    return lookup.schema
  }

  #once(key: string, load: () => Promise<SchemaLookup>): Promise<SchemaLookup> {
    let p = this.#lookups.get(key)
    if (!p) {
      p = load()
      this.#lookups.set(key, p)
      p.catch(() => this.#lookups.delete(key))
    }
    return p
  }

  #version(ref: SchemaReference): Promise<RegistrySchemaResponse> {
    const key = `${ref.subject}@${ref.version}`
    let p = this.#versions.get(key)
    if (!p) {
      p = this.client.subjectVersion(ref.subject, ref.version)
      this.#versions.set(key, p)
    }
    return p
  }

  /** The referenced schemas, dependencies first, each once. */
  async #references(refs: SchemaReference[], seen = new Set<string>()): Promise<Array<{ name: string; schema: string }>> {
    const out: Array<{ name: string; schema: string }> = []
    for (const ref of refs) {
      const key = `${ref.subject}@${ref.version}`
      if (seen.has(key)) continue
      seen.add(key)
      const response = await this.#version(ref)
      out.push(...(await this.#references(response.references ?? [], seen)))
      out.push({ name: ref.name, schema: response.schema })
    }
    return out
  }

  async #compile(response: RegistrySchemaResponse, versions: Array<{ subject: string; version: number }>, what: string): Promise<SchemaLookup> {
    const format = schemaFormat(response.schemaType)
    if (!format) return { error: `${what} has schema type ${response.schemaType}, which evt does not decode` }
    let referenced: Array<{ name: string; schema: string }>
    try {
      referenced = await this.#references(response.references ?? [])
    } catch (err) {
      if (err instanceof RegistryError && !err.unreachable) return { error: `${what}: a reference cannot be fetched (${err.message})` }
      throw err
    }
    const schema: ResolvedSchema = { id: response.id, guid: response.guid, format, text: response.schema, references: response.references ?? [], versions, referenced }
    try {
      if (format === 'avro') schema.avro = avroType(response.schema, referenced.map((r) => r.schema))
      else if (format === 'protobuf') schema.proto = protoSchema(response.schema, referenced)
      else JSON.parse(response.schema)
    } catch (err) {
      return { error: `${what} (${format}) does not parse: ${(err as Error).message}` }
    }
    return { schema }
  }
}

/** Options of {@link RegistryDecoder}. */
export interface RegistryDecoderOptions {
  /** Called once when the registry cannot be reached (not once per record). */
  onWarning?: (message: string) => void
  /** Throw (exit 3) instead of warning when the registry cannot be reached. */
  strict?: boolean
  /** Per registry request, ms (default 5000). */
  timeoutMs?: number
}

const SIDES: RecordSide[] = ['key', 'value']

/** Adds a note (and schema info) to a plain decoding in place: a spread would parse lazy JSON. */
function noted(d: Decoded, note: string, schema?: Decoded['schema']): Decoded {
  d.note = note
  if (schema) d.schema = schema
  return d
}

function shownAs(d: Decoded): string {
  return d.kind === 'json' ? 'JSON' : d.kind === 'binary' ? 'binary' : d.kind
}

function bytesOf(raw: RawRecord, side: RecordSide): Buffer | null {
  return side === 'key' ? raw.key : raw.value
}

/** Decodes records with the registry's schemas; see the module doc for the protocol. */
export class RegistryDecoder {
  readonly url?: string
  readonly #store?: SchemaStore
  readonly #options: RegistryDecoderOptions
  readonly #ready = new Map<string, SchemaLookup>()
  #down?: string

  constructor(registry: Connection['registry'] | undefined, options: RegistryDecoderOptions = {}) {
    this.#options = options
    if (registry?.url) {
      this.#store = new SchemaStore(new RegistryClient(registry, { timeoutMs: options.timeoutMs }))
      this.url = this.#store.client.url
    }
  }

  /** Why the registry is not used any more (unreachable), if it is not. */
  get down(): string | undefined {
    return this.#down
  }

  /**
   * Fetches the schemas these records need that are not cached yet (framing ids and header
   * GUIDs), in parallel. Never throws for a missing schema (the record shows why); when the
   * registry cannot be reached it warns once and later records are shown raw.
   * @throws EvtError connect/auth (exit 3) when the registry cannot be reached and `strict`.
   */
  async prepare(records: Iterable<RawRecord>): Promise<void> {
    const store = this.#store
    if (!store || this.#down) return
    const wanted = new Map<string, () => Promise<SchemaLookup>>()
    for (const raw of records) {
      for (const side of SIDES) {
        const bytes = bytesOf(raw, side)
        if (bytes === null) continue
        const header = schemaIdHeader(raw.headers, side)
        if (header) {
          const guid = header.guid
          if (guid && !this.#ready.has(`guid:${guid}`)) wanted.set(`guid:${guid}`, () => store.byGuid(guid))
          continue
        }
        const frame = parseConfluentFrame(bytes)
        if (frame && frame.schemaId !== 0 && !this.#ready.has(`id:${frame.schemaId}`)) wanted.set(`id:${frame.schemaId}`, () => store.byId(frame.schemaId))
      }
    }
    if (wanted.size === 0) return
    let failure: RegistryError | undefined
    await Promise.all(
      [...wanted].map(async ([key, load]) => {
        try {
          this.#ready.set(key, await load())
        } catch (err) {
          if (err instanceof RegistryError && err.unreachable) failure ??= err
          else this.#ready.set(key, { error: (err as Error).message })
        }
      }),
    )
    if (!failure || this.#down) return
    this.#down = failure.auth ? 'the schema registry refused the credentials' : 'the schema registry is unreachable'
    if (this.#options.strict) {
      throw new EvtError(failure.auth ? 'auth' : 'connect', failure.message, {
        hint: failure.auth ? "check the registry username and password of the profile (evt profiles show)" : 'check --registry / EVT_SCHEMA_REGISTRY_URL / the profile\'s registry, or drop --strict to show such records raw',
        cause: failure,
      })
    }
    this.#options.onWarning?.(`${failure.message}: records with schema ids are shown raw from here on (--strict makes this an error)`)
  }

  /** Adds key and value decodings to a raw record (after {@link prepare} saw it). Never throws. */
  decodeRecord(raw: RawRecord): DecodedRecord {
    return { ...raw, keyDecoded: this.decode(raw, 'key'), valueDecoded: this.decode(raw, 'value') }
  }

  /** Decodes one side of a record. Never throws: a failure is data (`error`, raw bytes kept). */
  decode(raw: RawRecord, side: RecordSide): Decoded {
    const bytes = bytesOf(raw, side)
    if (bytes === null) return { kind: 'null', value: null }
    const header = schemaIdHeader(raw.headers, side)
    if (header) return this.#withHeader(raw, side, bytes, header)
    const frame = parseConfluentFrame(bytes)
    if (frame && frame.schemaId !== 0) return this.#framed(raw, side, bytes, frame.schemaId, frame.payload)
    const plain = decodeBytes(bytes)
    const apicurio = apicurioFraming(raw.headers, side, bytes)
    if (apicurio) return noted(plain, `${apicurio}, not Confluent framing: shown as ${shownAs(plain)}`)
    // keys beside framed values are mostly plain strings: only values get this note
    if (this.#store && side === 'value' && bytes.length > 0) return noted(plain, `not Confluent-framed (first byte ${describeByte(bytes[0])}): shown as ${shownAs(plain)}`)
    return plain
  }

  #framed(raw: RawRecord, side: RecordSide, bytes: Buffer, schemaId: number, payload: Buffer): Decoded {
    const rawShown: Decoded = { kind: 'binary', value: bytes, schemaId }
    if (!this.#store) return { ...rawShown, note: `starts like a Confluent frame (magic byte 0, schema id ${schemaId}); pass --registry to try decoding it` }
    const found = this.#ready.get(`id:${schemaId}`)
    if (!found) return { ...rawShown, error: this.#down ? `not decoded: ${this.#down}` : `schema id ${schemaId} was not looked up` }
    if (found.error !== undefined) return { ...rawShown, error: found.error }
    return this.#payload(found.schema, raw, side, payload, undefined, rawShown)
  }

  #withHeader(raw: RawRecord, side: RecordSide, bytes: Buffer, header: SchemaIdHeader): Decoded {
    const found = header.guid && this.#store ? this.#ready.get(`guid:${header.guid}`) : undefined
    if (found?.schema) return this.#payload(found.schema, raw, side, bytes, header.rest, { kind: 'binary', value: bytes })
    const plain = decodeBytes(bytes)
    const shown = `payload shown as ${shownAs(plain)}`
    if (header.invalid) return noted(plain, `${header.invalid}; ${shown}`)
    const what = `schema GUID ${header.guid} in header ${header.header}`
    if (!this.#store) return noted(plain, `${what}; pass --registry to decode; ${shown}`, { guid: header.guid })
    const reason = found?.error ?? (this.#down ? `not looked up: ${this.#down}` : 'not looked up')
    return noted(plain, `${what}: ${reason}; ${shown}`, { guid: header.guid })
  }

  /**
   * Decodes the data after the framing. `headerIndexes`: the Protobuf message indexes from a
   * schema-id header (the payload then has none); undefined: read them from the payload.
   */
  #payload(schema: ResolvedSchema, raw: RawRecord, side: RecordSide, payload: Buffer, headerIndexes: Buffer | undefined, rawShown: Decoded): DecodedWithText {
    const info: NonNullable<Decoded['schema']> = { ...pickVersion(schema.versions, raw.topic, side), ...(schema.guid ? { guid: schema.guid } : {}) }
    const base = { schemaId: schema.id, schema: info }
    const label = schema.id !== undefined ? `schema id ${schema.id}` : `schema GUID ${schema.guid}`
    try {
      switch (schema.format) {
        case 'avro': {
          const type = schema.avro!
          const value = avroToJson(type, type.fromBuffer(payload))
          return { kind: 'avro', value, ...base, ...textOf(value) }
        }
        case 'protobuf': {
          const decoded = decodeProtobuf(schema.proto!, payload, headerIndexes)
          info.message = decoded.message
          return { kind: 'protobuf', value: decoded.value, ...base, ...(decoded.note ? { note: decoded.note } : {}) }
        }
        default: {
          const d = decodeBytes(payload)
          if (d.kind !== 'json') throw new Error(`the payload is not JSON (${d.kind})`)
          return { kind: 'json-schema', value: d.value, text: d.text, ...base }
        }
      }
    } catch (err) {
      return { ...rawShown, ...base, error: `${schema.format}: ${(err as Error).message} (${label})` }
    }
  }
}

function textOf(value: unknown): { text?: string } {
  return typeof value === 'string' ? { text: value } : {}
}

/** The subject/version to show: `<topic>-<side>` (TopicNameStrategy) when it holds the schema, else the first. */
function pickVersion(versions: Array<{ subject: string; version: number }>, topic: string, side: RecordSide): { subject?: string; version?: number } {
  const v = versions.find((x) => x.subject === `${topic}-${side}`) ?? versions[0]
  return v ? { subject: v.subject, version: v.version } : {}
}

/**
 * Protobuf data after the schema id: message indexes, then the message. When the indexes do not
 * work out (no such message, bytes that do not decode), the data is tried as the first message
 * without indexes: @kafkajs/confluent-schema-registry writes it that way.
 */
export function decodeProtobuf(schema: ProtoSchema, payload: Buffer, headerIndexes?: Buffer): { value: unknown; message: string; note?: string } {
  if (headerIndexes !== undefined) {
    const indexes = headerIndexes.length ? readMessageIndexes(headerIndexes).indexes : [0]
    const type = messageAt(schema, indexes)
    return { value: decodeProto(type, payload), message: typeName(type) }
  }
  let first: Error
  try {
    const { indexes, end } = readMessageIndexes(payload)
    const type = messageAt(schema, indexes)
    return { value: decodeProto(type, payload.subarray(end)), message: typeName(type) }
  } catch (err) {
    first = err as Error
  }
  const type = schema.messages[0]
  if (type) {
    try {
      return { value: decodeProto(type, payload), message: typeName(type), note: 'no message indexes after the schema id (as @kafkajs/confluent-schema-registry writes): read as the first message' }
    } catch {
      // report the first error
    }
  }
  throw first
}

// ---------------------------------------------------------------------------------------------
// Encoding (evt produce)

/** Which schema to encode with: a subject (latest or a version) or a schema id. */
export interface SchemaSelector {
  subject?: string
  version?: number | 'latest'
  id?: number
}

/**
 * Parses `<subject>[:<version>|:latest]`. @throws EvtError (usage) on an empty subject or a bad version.
 */
export function parseSchemaSelector(text: string, flag: string): SchemaSelector {
  const m = /^(.+?)(?::(\d+|latest))?$/.exec(text.trim())
  if (!m || !m[1]) throw usageError(`${flag}: "${text}" is not <subject>[:version]`, `e.g. ${flag} orders-value or ${flag} orders-value:3`)
  return { subject: m[1], version: m[2] === undefined || m[2] === 'latest' ? 'latest' : Number(m[2]) }
}

/** A schema ready to encode with. */
interface Encoding {
  schema: ResolvedSchema
  id: number
  label: string
  validate?: JsonValidator
}

/** Encodes JSON input with registry schemas, Confluent-framed, as real serializers write it. */
export class RecordEncoder {
  readonly #encodings: Partial<Record<RecordSide, Encoding>>

  private constructor(encodings: Partial<Record<RecordSide, Encoding>>) {
    this.#encodings = encodings
  }

  /** True when this side is encoded with a schema. */
  has(side: RecordSide): boolean {
    return this.#encodings[side] !== undefined
  }

  /**
   * Resolves the schemas to encode with.
   * @throws EvtError usage (no registry configured), not-found (4: subject, version or id), connect/auth (3).
   */
  static async open(registry: Connection['registry'] | undefined, selectors: Partial<Record<RecordSide, SchemaSelector>>, options: { timeoutMs?: number } = {}): Promise<RecordEncoder> {
    const wanted = SIDES.filter((s) => selectors[s])
    if (wanted.length === 0) return new RecordEncoder({})
    if (!registry?.url) throw usageError('encoding with a schema needs a schema registry', 'pass --registry <url>, set EVT_SCHEMA_REGISTRY_URL, or add registry: to the profile')
    const store = new SchemaStore(new RegistryClient(registry, options))
    const encodings: Partial<Record<RecordSide, Encoding>> = {}
    for (const side of wanted) {
      const sel = selectors[side]!
      const label = sel.id !== undefined ? `schema id ${sel.id}` : `${sel.subject}${sel.version === 'latest' ? '' : ` version ${sel.version}`}`
      let schema: ResolvedSchema
      try {
        if (sel.id !== undefined) {
          const lookup = await store.byId(sel.id)
          if (lookup.error !== undefined) throw notFoundError(lookup.error, 'list schemas with: evt schemas')
          schema = lookup.schema
        } else schema = await store.bySubject(sel.subject!, sel.version ?? 'latest')
      } catch (err) {
        throw registryEvtError(err, label)
      }
      const enc: Encoding = { schema, id: schema.id ?? sel.id!, label: `${label} (id ${schema.id ?? sel.id}, ${schema.format})` }
      if (schema.format === 'json-schema') {
        try {
          enc.validate = jsonSchemaValidator(schema.text, schema.referenced)
        } catch (err) {
          throw new EvtError('usage', `${label}: the JSON Schema does not compile for validation: ${(err as Error).message}`, { hint: 'produce without --value-schema/--key-schema to write the JSON unchecked' })
        }
      }
      encodings[side] = enc
    }
    return new RecordEncoder(encodings)
  }

  /**
   * Encodes one key or value given as JSON text (text that is not JSON is taken as a string).
   * `null` stays null (no key, a tombstone). Sides without a schema pass through.
   * @throws EvtError (usage) naming the record and what does not match the schema.
   */
  encode(side: RecordSide, input: Buffer | null, recordNumber: number): Buffer | null {
    const enc = this.#encodings[side]
    if (!enc || input === null) return input
    const text = input.toString('utf8')
    try {
      switch (enc.schema.format) {
        case 'avro': {
          const type = enc.schema.avro!
          return encodeConfluentFrame(enc.id, type.toBuffer(avroFromJson(type, parseExactJson(text), side)))
        }
        case 'protobuf': {
          const type = messageAt(enc.schema.proto!, [0])
          return encodeConfluentFrame(enc.id, encodeProto(type, parseExactJson(text)), [0])
        }
        default: {
          let json = text.trim()
          let value: unknown
          try {
            value = JSON.parse(json)
          } catch {
            value = text
            json = JSON.stringify(text)
          }
          const problems = enc.validate?.(value) ?? []
          if (problems.length) throw new Error(problems.join('; '))
          return encodeConfluentFrame(enc.id, Buffer.from(json, 'utf8'))
        }
      }
    } catch (err) {
      throw usageError(`record ${recordNumber}: the ${side} does not match ${enc.label}: ${(err as Error).message.replace(/^value([.[:])/, `${side}$1`)}`, 'the input is JSON as `evt tail -f json` shows such records (decimals and timestamps as strings, unions as {"branch": value} unless nullable)')
    }
  }
}

/** JSON.parse keeping integers beyond 2^53 exact (as bigint), through the reviver's source text. */
export function parseExactJson(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) return BigInt(context.source)
      return value
    })
  } catch {
    return text
  }
}

/**
 * Maps a registry failure to an EvtError: a 404 with a Confluent error code (40401 subject, 40402
 * version, 40403 schema not found) → not-found (4); a 404 without one (the server is not a
 * schema registry at that path: a wrong URL) and unreachable → connect/auth (3).
 */
export function registryEvtError(err: unknown, what: string): EvtError {
  if (err instanceof EvtError) return err
  if (err instanceof RegistryError) {
    if (err.unreachable) return new EvtError(err.auth ? 'auth' : 'connect', err.message, { hint: 'check --registry / EVT_SCHEMA_REGISTRY_URL / the profile\'s registry (URL, username, password)', cause: err })
    if (err.status === 404 && err.code === undefined) return new EvtError('connect', `${what}: the schema registry URL answers 404 without a schema registry error: it is not the registry's API`, { hint: 'pass the registry\'s base URL, e.g. http://host:8081 (Confluent) or http://host:8080/apis/ccompat/v7 (Apicurio)', cause: err })
    if (err.status === 404) return notFoundError(`${what}: not found in the schema registry${err.code ? ` (${err.code})` : ''}`, 'list subjects with: evt schemas')
    return new EvtError('internal', `${what}: ${err.message}`, { cause: err })
  }
  return new EvtError('internal', `${what}: ${(err as Error).message ?? String(err)}`, { cause: err })
}
