/**
 * `evt outbox tail`: follows an outbox table and the relay's topics at once, and says for each row
 * where it landed (topic/partition@offset) and how long the relay took, or that it is late. Reads
 * both sides, writes to neither.
 */
import { createExtractor } from '../envelope/index.ts'
import { notFoundError } from '../errors.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { OutboxRow, RecordPosition } from '../outbox/compare.ts'
import { OutboxDb } from '../outbox/postgres.ts'
import { relayTopics, type OutboxTarget } from '../outbox/target.ts'
import { tailRecords } from './tail.ts'

/** What to follow. */
export interface OutboxTailOptions extends OutboxTarget {
  /** Rows written from this time on (epoch ms), and records appended from then on. */
  sinceMs: number
  /** A row not on Kafka this long after it was written is reported late (once), ms. */
  graceMs: number
  /** How often the table is read for new rows, ms. Default 500. */
  pollMs?: number
  signal: AbortSignal
  onWarning?: (message: string) => void
  /** Also an event for each row when it is read from the table, before it lands (the live view shows it waiting). */
  announceWritten?: boolean
}

/**
 * One thing seen: a row that landed (`published`; `late` was reported before if it took longer than
 * the grace period), a row still not on Kafka after the grace period (`late`), or a record whose id
 * the table does not have (`unknown`).
 */
export type OutboxTailEvent =
  | { kind: 'written'; row: OutboxRow }
  | { kind: 'published'; row: OutboxRow; at: RecordPosition; lagMs: number; wasLate: boolean }
  | { kind: 'late'; row: OutboxRow; ageMs: number }
  | { kind: 'unknown'; at: RecordPosition; eventId?: string }

/**
 * Follows until `signal` aborts: rows polled from the table every `pollMs`, records read from the
 * topics as they are appended; events in the order they are decided.
 * @throws EvtError for the database (OutboxDb.open), Kafka (connect 3), or no topic to follow (not-found 4).
 */
export async function* tailOutbox(session: KafkaSession, options: OutboxTailOptions): AsyncGenerator<OutboxTailEvent> {
  const db = await OutboxDb.open(options.table)
  const queue: OutboxTailEvent[] = []
  let wake: (() => void) | undefined
  let failure: unknown
  const push = (e: OutboxTailEvent) => {
    queue.push(e)
    wake?.()
  }
  const fail = (err: unknown) => {
    failure ??= err
    wake?.()
  }

  try {
    const reader = await session.reader('read_committed')
    const topics = options.topics?.length ? options.topics : relayTopics(await reader.topicNames(), options.topicPrefix)
    if (topics.length === 0) throw notFoundError(`no topic starts with "${options.topicPrefix}"`, 'name the relay\'s topics with --topic-prefix or --topic (the topics must exist when the tail starts)')

    const pending = new Map<string, { row: OutboxRow; late: boolean }>()
    const landed = new Map<string, RecordPosition>() // records seen before their row was read
    const firstSeen = new Map<string, number>() // when such a record was seen (to call it unknown later)
    const done = new Set<string>()
    const extract = createExtractor(session.connection.envelope)

    const onRow = (row: OutboxRow) => {
      if (done.has(row.id) || pending.has(row.id)) return
      const at = landed.get(row.id)
      if (at) {
        landed.delete(row.id)
        firstSeen.delete(row.id)
        done.add(row.id)
        push({ kind: 'published', row, at, lagMs: Math.max(0, at.timestamp - row.writtenAt), wasLate: false })
      } else {
        pending.set(row.id, { row, late: false })
        if (options.announceWritten) push({ kind: 'written', row })
      }
    }

    const records = (async () => {
      const range = { from: { kind: 'time' as const, timestamp: options.sinceMs } }
      for await (const chunk of tailRecords(session, { topics, range, signal: options.signal, onWarning: options.onWarning })) {
        for (const r of chunk) {
          const at: RecordPosition = { topic: r.topic, partition: r.partition, offset: Number(r.offset), timestamp: r.timestamp }
          const eventId = extract(r).eventId
          if (eventId === undefined) {
            push({ kind: 'unknown', at })
            continue
          }
          const p = pending.get(eventId)
          if (p) {
            pending.delete(eventId)
            done.add(eventId)
            push({ kind: 'published', row: p.row, at, lagMs: Math.max(0, at.timestamp - p.row.writtenAt), wasLate: p.late })
          } else if (!done.has(eventId)) {
            landed.set(eventId, at)
            firstSeen.set(eventId, Date.now())
          }
        }
      }
    })().catch(fail)

    // the records appended since the window start are read first: a row is not called late before the
    // tail has followed for a grace period itself (a row published long ago is found in that backlog)
    const followingSince = Date.now()
    const rows = (async () => {
      let since = options.sinceMs
      while (!options.signal.aborted) {
        for (const row of await db.rowsSince(since, options.aggregateTypes)) {
          onRow(row)
          since = Math.max(since, row.writtenAt)
        }
        const now = Date.now()
        for (const p of pending.values()) {
          if (!p.late && now - p.row.writtenAt > options.graceMs && now - followingSince > options.graceMs) {
            p.late = true
            push({ kind: 'late', row: p.row, ageMs: now - p.row.writtenAt })
          }
        }
        // a record whose row has not shown up within the grace period: is it in the table at all?
        const old = [...firstSeen].filter(([, t]) => now - t > options.graceMs).map(([id]) => id)
        if (old.length) {
          const known = await db.existingIds(old)
          for (const id of old) {
            firstSeen.delete(id)
            if (known.has(id)) continue // written before the window: not this tail's
            const at = landed.get(id)!
            landed.delete(id)
            push({ kind: 'unknown', at, eventId: id })
          }
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollMs ?? 500)
          options.signal.addEventListener('abort', () => {
            clearTimeout(timer)
            resolve()
          }, { once: true })
        })
      }
    })().catch(fail)

    let ended = false
    const stopped = Promise.all([records, rows]).then(() => {
      ended = true
      wake?.()
    })
    while (true) {
      if (failure) throw failure
      const next = queue.shift()
      if (next) {
        yield next
        continue
      }
      if (options.signal.aborted || ended) break
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopped])
      wake = undefined
    }
  } finally {
    await db.close()
  }
}
