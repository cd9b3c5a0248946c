/**
 * `evt schemas`: the subjects of the schema registry with their versions and types, or one
 * schema (a subject's latest version, or a given one) with its id and references.
 */
import type { Connection } from '../config/connection.ts'
import { registryEvtError, schemaFormat } from '../codec/registry.ts'
import { RegistryClient, type SchemaReference } from '../codec/registry-client.ts'
import { usageError } from '../errors.ts'
import { mapWithConcurrency } from '../util/concurrency.ts'

/** One subject as `evt schemas` lists it (the `--json` contract: an array of these). */
export interface SubjectSummary {
  subject: string
  /** avro, protobuf or json-schema (as `valueEncoding` names them); the registry's name for others. */
  type: string
  versions: number[]
  latestVersion: number
  /** Schema id of the latest version. */
  latestId: number
}

/** One schema version (the `--json` contract of `evt schemas <subject>`). */
export interface SchemaDetail {
  subject: string
  version: number
  /** All versions of the subject. */
  versions: number[]
  id: number
  type: string
  references: SchemaReference[]
  /** The schema text as registered. */
  schema: string
}

function client(connection: Connection): RegistryClient {
  if (!connection.registry?.url) throw usageError('no schema registry configured', 'pass --registry <url> (Apicurio: http://host:port/apis/ccompat/v7), set EVT_SCHEMA_REGISTRY_URL, or add registry: to the profile')
  return new RegistryClient(connection.registry, { timeoutMs: connection.timeoutMs })
}

function typeName(schemaType: string | undefined): string {
  return schemaFormat(schemaType) ?? String(schemaType).toLowerCase()
}

/**
 * Lists subjects, sorted, with versions, type and latest id.
 * @throws EvtError usage (no registry configured), connect/auth (3).
 */
export async function listSubjects(connection: Connection): Promise<SubjectSummary[]> {
  const registry = client(connection)
  try {
    const subjects = (await registry.subjects()).sort((a, b) => a.localeCompare(b))
    return await mapWithConcurrency(subjects, 8, async (subject) => {
      const [versions, latest] = await Promise.all([registry.versions(subject), registry.subjectVersion(subject, 'latest')])
      return { subject, type: typeName(latest.schemaType), versions: [...versions].sort((a, b) => a - b), latestVersion: latest.version, latestId: latest.id }
    })
  } catch (err) {
    throw registryEvtError(err, 'listing subjects')
  }
}

/**
 * One version of a subject (default latest).
 * @throws EvtError usage, not-found (4: subject or version), connect/auth (3).
 */
export async function showSchema(connection: Connection, subject: string, version: number | 'latest' = 'latest'): Promise<SchemaDetail> {
  const registry = client(connection)
  const what = `subject "${subject}"${version === 'latest' ? '' : ` version ${version}`}`
  try {
    const [found, versions] = await Promise.all([registry.subjectVersion(subject, version), registry.versions(subject)])
    return { subject: found.subject ?? subject, version: found.version, versions: [...versions].sort((a, b) => a - b), id: found.id, type: typeName(found.schemaType), references: found.references ?? [], schema: found.schema }
  } catch (err) {
    throw registryEvtError(err, what)
  }
}
