/** groupCommit: batches handed in together are stored in one write; errors reach every batch of that write. */
import { describe, expect, it } from 'vitest'
import type { IndexBatch } from '../../src/index-store/types.ts'
import { groupCommit } from '../../src/services/index-run.ts'

const batch = (partition: number, from: number, next: number): IndexBatch => ({
  rows: Array.from({ length: next - from }, (_, i) => ({ topic: 't', partition, offset: from + i, timestamp: 0, correlationId: `c${i}`, traceId: null, eventId: null, causationId: null, eventType: null, aggregateId: null })),
  reach: [{ topic: 't', partition, from, next }],
})

describe('groupCommit', () => {
  it('stores batches handed in together in one write, later ones in the next', async () => {
    const writes: IndexBatch[] = []
    let release: () => void = () => {}
    const write = groupCommit({ write: async (b) => { writes.push(b); if (writes.length === 1) await new Promise<void>((r) => (release = r)) } })
    const first = [write(batch(0, 0, 2)), write(batch(1, 0, 3))]
    await new Promise((r) => setImmediate(r))
    // the first write is under way: these two wait for it, then go together
    const second = [write(batch(0, 2, 4)), write(batch(2, 5, 6))]
    release()
    await Promise.all([...first, ...second])
    expect(writes.map((w) => [w.rows.map((r) => `${r.partition}@${r.offset}`), w.reach.map((r) => `${r.partition}:${r.from}-${r.next}`)])).toEqual([
      [['0@0', '0@1', '1@0', '1@1', '1@2'], ['0:0-2', '1:0-3']],
      [['0@2', '0@3', '2@5'], ['0:2-4', '2:5-6']],
    ])
  })

  it('rejects every batch of a failed write, and goes on with the next', async () => {
    let calls = 0
    const write = groupCommit({ write: async () => { if (++calls === 1) throw new Error('disk full') } })
    const failed = [write(batch(0, 0, 1)), write(batch(1, 0, 1))].map((p) => p.then(() => 'stored', (e: Error) => e.message))
    expect(await Promise.all(failed)).toEqual(['disk full', 'disk full'])
    await expect(write(batch(0, 0, 1))).resolves.toBeUndefined()
    expect(calls).toBe(2)
  })
})
