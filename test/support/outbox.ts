/**
 * Helpers for the outbox tests: the local PostgreSQL's outbox table (the cluster script's --outbox),
 * rows written as a service would, and `evt outbox check --json` run for one aggregate type and
 * validated against its committed schema.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import pg from 'pg'
import { expect } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { POSTGRES_URL as URL } from '../../scripts/cluster.mjs'
import { ROOT } from './kafka.ts'

/** postgres:// URL of the local cluster's database `evt`. */
export const POSTGRES_URL = URL as string

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(readFileSync(join(ROOT, 'docs', 'schemas', 'outbox-check.schema.json'), 'utf8')) as object)

/** What the tests read of `evt outbox check --json`. */
export interface OutboxCheckDoc {
  rows: number
  records: number
  published: number
  pending: number
  unpublished: Array<{ id: string; aggregateId: string }>
  duplicates: Array<{ id: string; copies: Array<{ offset: number }> }>
  unknownOrigin: Array<{ eventId?: string; offset: number }>
  reordered: unknown[]
  lag: Record<string, { count: number }>
}

/** A connected client on the local database `evt`. */
export async function outboxDb(): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  return db
}

/** Inserts `n` rows of aggregate type `type` (aggregates a-0, a-1, a-2), one transaction each; their ids in write order. */
export async function insertOutboxRows(db: pg.Client, type: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = randomUUID()
    await db.query('INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ($1, $2, $3, $4, $5)', [id, type, `a-${i % 3}`, 'OrderPlaced', JSON.stringify({ n: i, correlation_id: `req-${type}` })])
    ids.push(id)
  }
  return ids
}

/** The arguments of `evt outbox check --json` over rows of `type` written since `sinceMs` and its topic. */
export function outboxCheckArgs(type: string, sinceMs: number, extra: string[] = []): string[] {
  return ['outbox', 'check', '--db', POSTGRES_URL, '--aggregate-type', type, '--topic-prefix', `outbox.event.${type}`, '--since', String(sinceMs), '--json', ...extra]
}

/** The check's document from a run that exited with `code`, validated against docs/schemas/outbox-check.schema.json. */
export function outboxCheckDoc(run: { code: number | null; stdout: string; stderr: string }, code = 0): OutboxCheckDoc {
  expect(run.code, run.stderr).toBe(code)
  const doc = JSON.parse(run.stdout.split('\n')[0]!) as OutboxCheckDoc
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)
  return doc
}
