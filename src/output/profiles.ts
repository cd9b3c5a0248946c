/**
 * `evt profiles list` as a table (the default profile starred).
 */
import type { ProfileRow } from '../config/profiles.ts'
import { renderTable } from './table.ts'

/** The profiles of the file at `path` as a table, or a line saying it has none. */
export function renderProfiles(path: string, rows: ProfileRow[]): string {
  if (rows.length === 0) return `no profiles in ${path}`
  return renderTable(['', 'PROFILE', 'BROKERS', 'REGISTRY', 'SASL', 'TLS'], rows.map((r) => [r.default ? '*' : '', r.name, r.brokers, r.registry, r.sasl || '-', r.tls ? 'yes' : 'no']))
}
