/**
 * The `local` index store: one SQLite file (Node's built-in `node:sqlite`, SQLite 3.x) in evt's
 * state directory, `$XDG_STATE_HOME/evt/index/<name>.sqlite` (else `~/.local/state/evt/index/…`).
 * WAL journal, so a trace can read while a worker writes, and several workers on one machine can
 * share the file (each write waits up to 30 s for the lock).
 *
 * Tables: `pointers` (primary key topic, partition, offset; indexes on correlation id, trace id and
 * timestamp: trace looks up by correlation or trace id only; event and causation ids are stored, not
 * indexed, since an index on a random id costs a page write per row) and `reach` (topic, partition → from, next).
 */
import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { EvtError } from '../errors.ts'
import { pointerRowFrom, type IndexBatch, type IndexStore, type LookupField, type PartitionIndexStatus, type PartitionReach, type PointerRow, type PointerRowData } from './types.ts'
import { makeDirs } from '../util/fs.ts'

/** Folder of local index files. */
export function indexStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'evt', 'index')
}

/** Path of the local index file of an index name. */
export function localIndexPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(indexStateDir(env), `${name}.sqlite`)
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pointers (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, ts INTEGER NOT NULL,
  correlation_id TEXT, trace_id TEXT, event_id TEXT, causation_id TEXT, event_type TEXT, aggregate_id TEXT,
  PRIMARY KEY (topic, partition, "offset")
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pointers_correlation ON pointers (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS pointers_trace ON pointers (trace_id) WHERE trace_id IS NOT NULL;
DROP INDEX IF EXISTS pointers_event;
DROP INDEX IF EXISTS pointers_causation;
CREATE INDEX IF NOT EXISTS pointers_ts ON pointers (ts);
CREATE TABLE IF NOT EXISTS reach (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, "from" INTEGER NOT NULL, "next" INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
`

const COLUMNS = 'topic, partition, "offset", ts, correlation_id, trace_id, event_id, causation_id, event_type, aggregate_id'

/** The SQLite implementation of {@link IndexStore}. */
export class SqliteIndexStore implements IndexStore {
  readonly description: string
  readonly path: string
  readonly exists: boolean
  private readonly db: DatabaseSync
  private readonly insert: StatementSync
  private readonly upsertReach: StatementSync

  /**
   * Opens the file at `path`, creating it (with its folder) when missing — unless `create` is false: then a
   * missing file is read as an empty index and nothing is written to disk.
   * @throws EvtError usage (2) when the file or its folder cannot be opened or made, or is not an index.
   */
  constructor(path: string, options: { create?: boolean } = {}) {
    this.path = path
    this.description = `local (${path})`
    const missing = options.create === false && !existsSync(path)
    this.exists = !missing
    try {
      if (!missing) makeDirs(dirname(path))
      this.db = new DatabaseSync(missing ? ':memory:' : path, { timeout: 30_000 })
      // 16 MiB of page cache (default 2 MiB): fewer pages of the correlation index read again per batch
      this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;`)
      this.db.exec(SCHEMA)
    } catch (err) {
      // a folder that cannot be made, a file that cannot be opened: the state folder setting is what needs fixing
      throw new EvtError('usage', `cannot open the index file ${path}: ${(err as Error).message}`, { hint: 'set XDG_STATE_HOME to a folder you can write, or move the file away if it is not an index' })
    }
    this.insert = this.db.prepare(`INSERT INTO pointers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
    // the reach only grows: a batch stored again (after a crash) never moves it back; a batch that starts past it
    // (the group's offsets were moved forward) leaves a gap: the reach starts again at that batch
    this.upsertReach = this.db.prepare(`INSERT INTO reach (topic, partition, "from", "next") VALUES (?, ?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET
      "from" = CASE WHEN excluded."from" > reach."next" THEN excluded."from" ELSE reach."from" END,
      "next" = CASE WHEN excluded."from" > reach."next" THEN excluded."next" ELSE max(reach."next", excluded."next") END`)
  }

  async write(batch: IndexBatch): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      for (const r of batch.rows) {
        this.insert.run(r.topic, r.partition, r.offset, r.timestamp, r.correlationId, r.traceId, r.eventId, r.causationId, r.eventType, r.aggregateId)
      }
      for (const p of batch.reach) this.upsertReach.run(p.topic, p.partition, p.from, p.next)
      this.db.exec('COMMIT')
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw new EvtError('connect', `cannot write to the index file ${this.path}: ${(err as Error).message}`, { hint: 'is the disk full, or the file read-only?' })
    }
  }

  async lookup(field: LookupField, id: string): Promise<PointerRow[]> {
    const where = field === 'correlation' ? 'correlation_id = ? UNION SELECT ' + COLUMNS + ' FROM pointers WHERE trace_id = ?' : field === 'event' ? 'event_id = ?' : 'causation_id = ?'
    const params = field === 'correlation' ? [id, id] : [id]
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM pointers WHERE ${where} ORDER BY 1, 2, 3`).all(...params) as unknown as PointerRowData[]
    return rows.map(pointerRowFrom)
  }

  async reach(topics?: string[]): Promise<PartitionReach[]> {
    const rows = this.db.prepare('SELECT topic, partition, "from", "next" FROM reach ORDER BY topic, partition').all() as unknown as Array<{ topic: string; partition: number; from: number; next: number }>
    const wanted = topics ? new Set(topics) : undefined
    return rows.filter((r) => !wanted || wanted.has(r.topic)).map((r) => ({ topic: r.topic, partition: Number(r.partition), from: Number(r.from), next: Number(r.next) }))
  }

  async status(): Promise<PartitionIndexStatus[]> {
    const counts = this.db.prepare('SELECT topic, partition, count(*) AS n FROM pointers GROUP BY topic, partition').all() as unknown as Array<{ topic: string; partition: number; n: number }>
    const byPartition = new Map(counts.map((c) => [`${c.topic}/${c.partition}`, Number(c.n)]))
    return (await this.reach()).map((r) => ({ ...r, rows: byPartition.get(`${r.topic}/${r.partition}`) ?? 0 }))
  }

  async sizeBytes(): Promise<number> {
    let total = 0
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(`${this.path}${suffix}`).size
      } catch {
        // no WAL file (checkpointed)
      }
    }
    return total
  }

  async deleteOlderThan(timestamp: number): Promise<number> {
    return Number(this.db.prepare('DELETE FROM pointers WHERE ts < ?').run(timestamp).changes)
  }

  async drop(): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE; DELETE FROM pointers; DELETE FROM reach; COMMIT;')
    this.db.exec('VACUUM')
  }

  async close(): Promise<void> {
    try {
      this.db.close()
    } catch {
      // already closed
    }
  }
}
