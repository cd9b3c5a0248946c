/**
 * Reads a transactional outbox table in PostgreSQL, read-only, for `evt outbox`: the rows written in
 * a window, and which of a list of event ids the table holds. The only module that talks to the
 * database (the `pg` client, loaded on first use).
 */
import { EvtError, notFoundError, usageError } from '../errors.ts'
import type { OutboxRow } from './compare.ts'

/** Column names of the outbox table (Debezium's layout, plus the time the row was written). */
export interface OutboxColumns {
  id: string
  aggregateType: string
  aggregateId: string
  type: string
  /** timestamptz / timestamp (UTC), or a number of epoch milliseconds. */
  timestamp: string
}

/** Debezium's outbox event router defaults; `created_at` is evt's default for the write time. */
export const DEFAULT_OUTBOX_COLUMNS: Readonly<OutboxColumns> = Object.freeze({ id: 'id', aggregateType: 'aggregatetype', aggregateId: 'aggregateid', type: 'type', timestamp: 'created_at' })

/** Where the outbox is. */
export interface OutboxTable {
  /** postgres:// URL */
  url: string
  /** Table name, optionally schema-qualified (`public.outbox`). */
  table: string
  columns: OutboxColumns
  /** Connect and per-query budget, ms. */
  timeoutMs: number
}

interface PgClient {
  connect(): Promise<void>
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
  end(): Promise<void>
  escapeIdentifier(s: string): string
}

/** A read-only session on the outbox database. Close it with {@link OutboxDb.close}. */
export class OutboxDb {
  private readonly client: PgClient
  private readonly spec: OutboxTable
  private readonly numericTime: boolean

  private constructor(client: PgClient, spec: OutboxTable, numericTime: boolean) {
    this.client = client
    this.spec = spec
    this.numericTime = numericTime
  }

  /**
   * Connects (read-only transaction default) and checks that the table and its columns exist.
   * @throws EvtError usage (2) for a bad URL, connect (3) when the server cannot be reached or refuses
   *   the login, not-found (4) for a missing database, table or column.
   */
  static async open(spec: OutboxTable): Promise<OutboxDb> {
    let parsed: URL
    try {
      parsed = new URL(spec.url)
    } catch {
      throw usageError(`--db "${spec.url}" is not a URL`, 'e.g. --db postgres://user@host:5432/dbname')
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw usageError(`--db: only postgres:// URLs are supported, got ${parsed.protocol}//`, 'e.g. --db postgres://user@host:5432/dbname')
    const { default: pg } = await import('pg')
    const client = new pg.Client({
      connectionString: spec.url,
      connectionTimeoutMillis: spec.timeoutMs,
      statement_timeout: spec.timeoutMs,
      query_timeout: spec.timeoutMs,
      application_name: 'evt outbox',
      options: '-c default_transaction_read_only=on',
    }) as unknown as PgClient
    const where = `${parsed.hostname}:${parsed.port || 5432}`
    try {
      await client.connect()
    } catch (err) {
      throw pgError(err, where, spec)
    }
    try {
      const [schema, name] = spec.table.includes('.') ? spec.table.split('.', 2) : [undefined, spec.table]
      const { rows } = await client.query(
        'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND ($2::text IS NULL OR table_schema = $2) ',
        [name, schema ?? null],
      )
      if (rows.length === 0) throw notFoundError(`table "${spec.table}" does not exist in ${dbName(parsed)}`, 'name the outbox table with --table (or outbox.table in the profile)')
      const types = new Map(rows.map((r) => [String(r.column_name), String(r.data_type)]))
      for (const [role, column] of Object.entries(spec.columns)) {
        if (!types.has(column)) {
          throw notFoundError(`table "${spec.table}" has no column "${column}" (the ${role} column)`, `its columns: ${[...types.keys()].join(', ')}; set outbox.columns.${role} in the profile${role === 'timestamp' ? ' or pass --timestamp-column' : ''}`)
        }
      }
      const timeType = types.get(spec.columns.timestamp)!
      if (!/^(timestamp|bigint|integer|numeric|double precision)/.test(timeType)) {
        throw usageError(`column "${spec.columns.timestamp}" is ${timeType}, not a time`, 'the timestamp column must be a timestamp(tz) or epoch milliseconds')
      }
      return new OutboxDb(client, spec, !timeType.startsWith('timestamp'))
    } catch (err) {
      await client.end().catch(() => {})
      throw err instanceof EvtError ? err : pgError(err, where, spec)
    }
  }

  /**
   * The rows written at or after `sinceMs` (epoch ms), in write order (timestamp, then physical order);
   * only those of `aggregateTypes` when given.
   * Values are read as text; a null id or aggregate is skipped (it cannot be published).
   */
  async rowsSince(sinceMs: number, aggregateTypes?: readonly string[]): Promise<OutboxRow[]> {
    const c = this.spec.columns
    const id = this.client.escapeIdentifier.bind(this.client)
    const time = this.numericTime ? `${id(c.timestamp)}::float8` : `extract(epoch from ${id(c.timestamp)}) * 1000`
    const since = this.numericTime ? '$1::float8' : 'to_timestamp($1::float8 / 1000)'
    const { rows } = await this.client.query(
      `SELECT ${id(c.id)}::text AS id, ${id(c.aggregateType)}::text AS aggregate_type, ${id(c.aggregateId)}::text AS aggregate_id, ${id(c.type)}::text AS type, (${time})::float8 AS written_at
       FROM ${tableRef(this.spec.table, id)} WHERE ${id(c.timestamp)} >= ${since}${aggregateTypes?.length ? ` AND ${id(c.aggregateType)}::text = ANY($2::text[])` : ''}
       ORDER BY ${id(c.timestamp)}, ctid`,
      aggregateTypes?.length ? [sinceMs, aggregateTypes] : [sinceMs],
    )
    const out: OutboxRow[] = []
    for (const r of rows) {
      if (r.id === null || r.aggregate_id === null) continue
      out.push({ id: String(r.id), aggregateType: String(r.aggregate_type ?? ''), aggregateId: String(r.aggregate_id), type: r.type === null ? undefined : String(r.type), writtenAt: Math.round(Number(r.written_at)) })
    }
    return out
  }

  /**
   * The aggregate types of the rows written at or after `sinceMs` (epoch ms), each with its number
   * of rows, sorted by type; null types are left out.
   */
  async aggregateTypesSince(sinceMs: number): Promise<Array<{ type: string; rows: number }>> {
    const c = this.spec.columns
    const id = this.client.escapeIdentifier.bind(this.client)
    const since = this.numericTime ? '$1::float8' : 'to_timestamp($1::float8 / 1000)'
    const { rows } = await this.client.query(
      `SELECT ${id(c.aggregateType)}::text AS aggregate_type, count(*)::float8 AS n FROM ${tableRef(this.spec.table, id)}
       WHERE ${id(c.timestamp)} >= ${since} AND ${id(c.aggregateType)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [sinceMs],
    )
    return rows.map((r) => ({ type: String(r.aggregate_type), rows: Number(r.n) }))
  }

  /** Which of these event ids the table holds (any time). */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const id = this.client.escapeIdentifier.bind(this.client)
    const { rows } = await this.client.query(`SELECT ${id(this.spec.columns.id)}::text AS id FROM ${tableRef(this.spec.table, id)} WHERE ${id(this.spec.columns.id)}::text = ANY($1::text[])`, [ids])
    return new Set(rows.map((r) => String(r.id)))
  }

  /** Counts all rows (to tell a table that deletes its rows after writing them). */
  async rowCount(): Promise<number> {
    const { rows } = await this.client.query(`SELECT count(*)::float8 AS n FROM ${tableRef(this.spec.table, this.client.escapeIdentifier.bind(this.client))}`)
    return Number(rows[0]?.n ?? 0)
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {})
  }
}

function tableRef(table: string, id: (s: string) => string): string {
  return table.split('.', 2).map(id).join('.')
}

function dbName(url: URL): string {
  return `database "${decodeURIComponent(url.pathname.slice(1)) || '(default)'}"`
}

/** Maps a `pg` / socket error to evt's kinds: connect (3), not-found (4). */
function pgError(err: unknown, where: string, spec: OutboxTable): EvtError {
  const e = err as Error & { code?: string }
  const text = e.message || String(err)
  if (e.code === '3D000') return notFoundError(`PostgreSQL at ${where}: ${text}`, 'check the database name in --db')
  if (e.code === '28P01' || e.code === '28000') return new EvtError('auth', `PostgreSQL at ${where} refused the login: ${text}`, { hint: 'check the user and password in --db (a password is better given through ${PGPASSWORD} in the profile)', cause: err })
  if (e.code === '42P01') return notFoundError(`table "${spec.table}" does not exist: ${text}`, 'name the outbox table with --table (or outbox.table in the profile)')
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(e.code ?? '') || /timeout/i.test(text)) {
    return new EvtError('connect', `cannot connect to PostgreSQL at ${where}: ${text}`, { hint: 'is the database running, and is --db right?', cause: err })
  }
  return new EvtError('internal', `PostgreSQL at ${where}: ${text}`, { cause: err })
}
