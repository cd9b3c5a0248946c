/**
 * The PostgreSQL index store (`--store postgres://…`), for an index shared by workers on many
 * machines. Uses the `pg` client (a pool of up to 4 connections: a worker stores batches of several
 * partitions at once).
 *
 * Each index name has its own schema, `evt_index_<name>` (a hash instead of a long name), with:
 * - `pointers`: partitioned by day of the record timestamp (UTC; one partition `p_YYYYMMDD` per day,
 *   created on first use), primary key (topic, partition, offset, day) — a record's day never
 *   changes, so the key is unique on topic, partition and offset; indexes on correlation id and
 *   trace id (what trace looks up; event and causation ids are stored, not indexed). Retention drops whole day partitions.
 * - `reach`: (topic, partition) → from, next.
 * A batch is one multi-row `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` plus the reach
 * upsert, in one transaction.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import { EvtError } from '../errors.ts'
import { describeStoreUrl } from './open.ts'
import { pointerRowFrom, type IndexBatch, type IndexStore, type LookupField, type PartitionIndexStatus, type PartitionReach, type PointerRow, type PointerRowData } from './types.ts'

const DAY_MS = 86_400_000

/** The schema of an index name (PostgreSQL identifiers are at most 63 bytes). */
export function postgresSchema(name: string): string {
  const plain = `evt_index_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`
  return plain.length <= 50 && plain === `evt_index_${name}` ? plain : `evt_index_${plain.slice(10, 30)}_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`

/** `p_YYYYMMDD` of a day (epoch day number). */
function partitionName(day: number): string {
  return `p_${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)

const COLUMNS = 'topic, partition, "offset", ts, correlation_id, trace_id, event_id, causation_id, event_type, aggregate_id'

/** The PostgreSQL implementation of {@link IndexStore}. */
export class PostgresIndexStore implements IndexStore {
  readonly description: string
  private readonly pool: pg.Pool
  private readonly schema: string
  private readonly days = new Set<number>()
  exists = true

  private constructor(url: string, name: string) {
    this.description = describeStoreUrl(url)
    this.schema = postgresSchema(name)
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000 })
    // an idle connection that breaks (server restart) must not crash the process: the next query reports it
    this.pool.on('error', () => {})
  }

  /**
   * Connects and creates the index's schema and tables when missing. With `create: false` (status, drop,
   * trace) nothing is created: an index that is not there sets {@link exists} false and reads as empty.
   * @throws EvtError connect (3) when the server cannot be reached or refuses.
   */
  static async open(url: string, name: string, options: { create?: boolean } = {}): Promise<PostgresIndexStore> {
    const store = new PostgresIndexStore(url, name)
    try {
      if (options.create === false) {
        const { rows } = await store.pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${ident(store.schema)}.reach`])
        store.exists = rows[0]?.t != null
      } else await store.init()
    } catch (err) {
      await store.close()
      throw store.failure(err, 'open')
    }
    return store
  }

  private failure(err: unknown, what: string): EvtError {
    if (err instanceof EvtError) return err
    const e = err as Error & { code?: string }
    // 3D000 invalid_catalog_name: the server answered, the database does not exist (retrying will not help)
    if (e.code === '3D000') return new EvtError('not-found', `cannot ${what} the index store ${this.description}: ${e.message}`, { hint: 'name an existing database in the URL, or create it (createdb -h <host> -p <port> -U <user> <database>)' })
    return new EvtError('connect', `cannot ${what} the index store ${this.description}: ${e.message || e.code || String(err)}`, { hint: 'check the URL (postgres://user@host:port/database), that the server runs, and that the user may create tables' })
  }

  private async init(): Promise<void> {
    const s = ident(this.schema)
    const client = await this.pool.connect()
    try {
      // one creator at a time (workers starting together)
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.schema])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.pointers (
        topic text NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL, ts bigint NOT NULL, day date NOT NULL,
        correlation_id text, trace_id text, event_id text, causation_id text, event_type text, aggregate_id text,
        PRIMARY KEY (topic, partition, "offset", day)
      ) PARTITION BY RANGE (day)`)
      // trace looks records up by correlation (or trace) id only: an index on a random id costs a page write per row
      for (const col of ['correlation_id', 'trace_id']) {
        await client.query(`CREATE INDEX IF NOT EXISTS ${ident(`pointers_${col}`)} ON ${s}.pointers (${col}) WHERE ${col} IS NOT NULL`)
      }
      for (const col of ['event_id', 'causation_id']) await client.query(`DROP INDEX IF EXISTS ${s}.${ident(`pointers_${col}`)}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.reach (topic text NOT NULL, partition integer NOT NULL, "from" bigint NOT NULL, "next" bigint NOT NULL, PRIMARY KEY (topic, partition))`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  /** Creates the day partitions a batch needs (once per process and day). */
  private async ensureDays(client: pg.PoolClient, days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.days.has(day)) continue
      const s = ident(this.schema)
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`${this.schema}.days`])
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS ${s}.${ident(partitionName(day))} PARTITION OF ${s}.pointers FOR VALUES FROM ('${isoDay(day)}') TO ('${isoDay(day + 1)}')`)
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`${this.schema}.days`])
      }
      this.days.add(day)
    }
  }

  async write(batch: IndexBatch): Promise<void> {
    const s = ident(this.schema)
    let client: pg.PoolClient | undefined
    try {
      client = await this.pool.connect()
      const dayOf = (ts: number) => Math.floor(ts / DAY_MS)
      await this.ensureDays(client, new Set(batch.rows.map((r) => dayOf(r.timestamp))))
      await client.query('BEGIN')
      if (batch.rows.length) {
        const cols: unknown[][] = Array.from({ length: 11 }, () => [])
        for (const r of batch.rows) {
          const values = [r.topic, r.partition, r.offset, r.timestamp, isoDay(dayOf(r.timestamp)), r.correlationId, r.traceId, r.eventId, r.causationId, r.eventType, r.aggregateId]
          values.forEach((v, i) => cols[i].push(v))
        }
        await client.query(
          `INSERT INTO ${s}.pointers (topic, partition, "offset", ts, day, correlation_id, trace_id, event_id, causation_id, event_type, aggregate_id)
           SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           ON CONFLICT DO NOTHING`,
          cols,
        )
      }
      for (const p of batch.reach) {
        await client.query(`INSERT INTO ${s}.reach (topic, partition, "from", "next") VALUES ($1, $2, $3, $4) ON CONFLICT (topic, partition) DO UPDATE SET
          "from" = CASE WHEN excluded."from" > ${s}.reach."next" THEN excluded."from" ELSE ${s}.reach."from" END,
          "next" = CASE WHEN excluded."from" > ${s}.reach."next" THEN excluded."next" ELSE GREATEST(${s}.reach."next", excluded."next") END`, [p.topic, p.partition, p.from, p.next])
      }
      await client.query('COMMIT')
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => {})
      throw this.failure(err, 'write to')
    } finally {
      client?.release()
    }
  }

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, params)).rows as T[]
    } catch (err) {
      throw this.failure(err, 'read')
    }
  }

  async lookup(field: LookupField, id: string): Promise<PointerRow[]> {
    if (!this.exists) return []
    const s = ident(this.schema)
    const sql = field === 'correlation'
      ? `SELECT ${COLUMNS} FROM ${s}.pointers WHERE correlation_id = $1 UNION SELECT ${COLUMNS} FROM ${s}.pointers WHERE trace_id = $1 ORDER BY 1, 2, 3`
      : `SELECT ${COLUMNS} FROM ${s}.pointers WHERE ${field === 'event' ? 'event_id' : 'causation_id'} = $1 ORDER BY 1, 2, 3`
    return (await this.query<PointerRowData>(sql, [id])).map(pointerRowFrom)
  }

  async reach(topics?: string[]): Promise<PartitionReach[]> {
    if (!this.exists) return []
    const rows = await this.query<{ topic: string; partition: number; from: string; next: string }>(`SELECT topic, partition, "from", "next" FROM ${ident(this.schema)}.reach ${topics ? 'WHERE topic = ANY($1)' : ''} ORDER BY topic, partition`, topics ? [topics] : [])
    return rows.map((r) => ({ topic: r.topic, partition: Number(r.partition), from: Number(r.from), next: Number(r.next) }))
  }

  async status(): Promise<PartitionIndexStatus[]> {
    if (!this.exists) return []
    const counts = await this.query<{ topic: string; partition: number; n: string }>(`SELECT topic, partition, count(*) AS n FROM ${ident(this.schema)}.pointers GROUP BY topic, partition`)
    const byPartition = new Map(counts.map((c) => [`${c.topic}/${c.partition}`, Number(c.n)]))
    return (await this.reach()).map((r) => ({ ...r, rows: byPartition.get(`${r.topic}/${r.partition}`) ?? 0 }))
  }

  async sizeBytes(): Promise<number> {
    const [row] = await this.query<{ n: string | null }>("SELECT sum(pg_total_relation_size(c.oid)) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", [this.schema])
    return Number(row?.n ?? 0)
  }

  /** Drops the day partitions entirely before `timestamp`, and deletes the older rows of the day it falls in. */
  async deleteOlderThan(timestamp: number): Promise<number> {
    if (!this.exists) return 0
    const s = ident(this.schema)
    const cutoffDay = Math.floor(timestamp / DAY_MS)
    const parts = await this.query<{ name: string }>("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = 'pointers'", [this.schema])
    let deleted = 0
    for (const { name } of parts) {
      const m = /^p_(\d{4})(\d{2})(\d{2})$/.exec(name)
      if (!m) continue
      const day = Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS)
      if (day >= cutoffDay) continue
      const [c] = await this.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.${ident(name)}`)
      await this.query(`DROP TABLE IF EXISTS ${s}.${ident(name)}`)
      this.days.delete(day)
      deleted += Number(c?.n ?? 0)
    }
    const rows = await this.query<{ n: string }>(`WITH d AS (DELETE FROM ${s}.pointers WHERE ts < $1 RETURNING 1) SELECT count(*) AS n FROM d`, [timestamp])
    return deleted + Number(rows[0]?.n ?? 0)
  }

  async drop(): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${ident(this.schema)} CASCADE`)
    this.days.clear()
    this.exists = false
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {})
  }
}
