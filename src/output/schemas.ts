/**
 * Renderers of `evt schemas`: the subject table and one schema (Avro and JSON Schema
 * pretty-printed, Protobuf as written).
 */
import chalk from 'chalk'
import type { SchemaDetail, SubjectSummary } from '../services/schemas.ts'
import { renderTable } from './table.ts'

/** SUBJECT, TYPE, VERSIONS, LATEST, ID. */
export function renderSubjects(subjects: SubjectSummary[]): string {
  if (subjects.length === 0) return chalk.dim('(no subjects)')
  return renderTable(
    ['SUBJECT', 'TYPE', 'VERSIONS', 'LATEST', 'ID'],
    subjects.map((s) => [s.subject, s.type, compactVersions(s.versions), s.latestVersion, s.latestId]),
    { alignRight: [3, 4] },
  )
}

/** 1,2,3,5 → "1-3,5". */
export function compactVersions(versions: number[]): string {
  const out: string[] = []
  for (let i = 0; i < versions.length; i++) {
    let j = i
    while (j + 1 < versions.length && versions[j + 1] === versions[j] + 1) j++
    out.push(j > i ? `${versions[i]}-${versions[j]}` : String(versions[i]))
    i = j
  }
  return out.join(',')
}

/** The header lines (subject, version, id, type, references), then the schema. */
export function renderSchema(detail: SchemaDetail): string {
  const lines = [
    `${chalk.bold('subject')}     ${detail.subject}`,
    `${chalk.bold('version')}     ${detail.version}${detail.versions.length > 1 ? chalk.dim(` (versions ${compactVersions(detail.versions)})`) : ''}`,
    `${chalk.bold('id')}          ${detail.id}`,
    `${chalk.bold('type')}        ${detail.type}`,
  ]
  for (const [i, r] of detail.references.entries()) lines.push(`${chalk.bold(i === 0 ? 'references' : '')}${' '.repeat(i === 0 ? 2 : 12)}${r.name} → ${r.subject} v${r.version}`)
  let text = detail.schema
  if (detail.type !== 'protobuf') {
    try {
      text = JSON.stringify(JSON.parse(detail.schema), null, 2)
    } catch {
      // not JSON: as registered
    }
  }
  return `${lines.join('\n')}\n\n${text.trimEnd()}`
}
