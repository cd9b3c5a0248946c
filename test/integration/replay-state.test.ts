/**
 * evt's own state on the real broker: `replay status` after runs stopped by Ctrl-C and kill -9
 * (figures checked against the target topic and the progress group read with kafkajs),
 * `replay clean` (exact group lists before and after, state files, refusals, idempotence, names
 * from before the _evt- prefix), `groups` hiding evt's progress groups, and `trace` never listing
 * them as consumers of a record copied by replay.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { DecodedRecord } from '../../src/record.ts'
import { BROKERS, createTopic, joinedConsumer, readWithEvt, ROOT, runEvt, uniqueTopic, withTestAdmin, writeWithEvt } from '../support/kafka.ts'

// every state file of this file's replays in a folder of its own: `replay status` lists exactly them
const STATE = mkdtempSync(join(tmpdir(), 'evt-state-'))
process.env.XDG_STATE_HOME = STATE
const stateFile = (id: string) => join(STATE, 'evt', 'replays', `${id}.json`)

interface RunJson {
  id: string
  state: string
  offsets: number
  done: number | null
  remaining: number | null
  copied: number | null
  filtered: number | null
  progressGroup: string
  pid: number | null
  partitions: Array<{ partition: number; start: number; end: number; committed: number | null; done: number; remaining: number; copied: number | null; filtered: number | null }>
}

async function fill(topic: string, n: number, partitions: number): Promise<void> {
  await writeWithEvt(topic, Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(JSON.stringify({ n: i, event_type: i % 3 === 0 ? 'OrderPlaced' : 'OrderCancelled' })),
    headers: [],
    partition: i % partitions,
  })))
}

const n = (r: DecodedRecord) => (r.valueDecoded.value as { n: number }).n
const replayId = (stderr: string) => /replay id (\S+)/.exec(stderr)![1]

/** Committed offsets of a group on a topic, read with kafkajs (not evt). */
async function committed(group: string, topic: string): Promise<Map<number, number>> {
  const [t] = await withTestAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }))
  return new Map(t.partitions.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]))
}

/** Group ids in the cluster, read with kafkajs, that contain one of `needles`. */
async function groupsWith(...needles: string[]): Promise<string[]> {
  const { groups } = await withTestAdmin((admin) => admin.listGroups())
  return groups.map((g) => g.groupId).filter((g) => needles.some((x) => g.includes(x))).sort()
}

async function status(id: string): Promise<RunJson> {
  const r = await runEvt(['replay', 'status', id, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as RunJson
}

/** Starts a copy as a subprocess and stops it with `signal` once something is committed in the target. */
async function startAndStop(args: string[], dst: string, signal: NodeJS.Signals): Promise<{ id: string; code: number | null; stderr: string; runningStatus: RunJson }> {
  const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  for (let i = 0; (await readWithEvt(dst)).length === 0; i++) {
    if (i > 300) throw new Error(`nothing was copied within 30 s: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const runningStatus = await status(replayId(stderr))
  child.kill(signal)
  const code = await new Promise<number | null>((r) => child.on('close', r))
  return { id: replayId(stderr), code, stderr, runningStatus }
}

describe('replay status', () => {
  const src = uniqueTopic('st-src')
  const dst = uniqueTopic('st-dst')
  const FILTER = 'value.event_type == "OrderPlaced"'
  let id = ''

  beforeAll(async () => {
    await createTopic(src, 3)
    await createTopic(dst, 3)
    await fill(src, 1200, 3)
  })

  /** The figures of a run checked against the target and the progress group (kafkajs). */
  async function expectExact(s: RunJson): Promise<void> {
    const progress = await committed(s.progressGroup, src)
    const copies = await readWithEvt(dst)
    const source = await readWithEvt(src)
    // the copies are exactly the filtered source records below the committed offsets
    const expected = source.filter((r) => Number(r.offset) < (progress.get(r.partition) ?? 0) && n(r) % 3 === 0).map(n).sort((a, b) => a - b)
    expect(copies.map(n).sort((a, b) => a - b)).toEqual(expected)
    expect(s.partitions.map((p) => [p.partition, p.start, p.end, p.committed])).toEqual([0, 1, 2].map((p) => [p, 0, 400, progress.get(p) ?? null]))
    const done = [0, 1, 2].reduce((sum, p) => sum + (progress.get(p) ?? 0), 0)
    expect([s.offsets, s.done, s.remaining, s.copied, s.filtered]).toEqual([1200, done, 1200 - done, expected.length, done - expected.length])
    for (const p of s.partitions) {
      const mine = source.filter((r) => r.partition === p.partition && Number(r.offset) < p.done)
      expect([p.done, p.remaining, p.copied, p.filtered]).toEqual([mine.length, 400 - mine.length, mine.filter((r) => n(r) % 3 === 0).length, mine.filter((r) => n(r) % 3 !== 0).length])
    }
  }

  it('after Ctrl-C: interrupted, with exactly what was committed (running while it ran)', async () => {
    const run = await startAndStop(['replay', src, '--from', 'start', '--to-topic', dst, '--filter', FILTER, '--rate', '40', '--yes'], dst, 'SIGINT')
    id = run.id
    expect(run.code, run.stderr).toBe(130)
    expect(run.runningStatus.state).toBe('running')
    expect(run.runningStatus.pid).toBeGreaterThan(0)
    const s = await status(id)
    expect(s.state).toBe('interrupted')
    expect(s.pid).toBe(null)
    expect(s.progressGroup).toBe(`_evt-replay-${id}`)
    expect(s.done).toBeGreaterThan(0)
    expect(s.done).toBeLessThan(1200)
    await expectExact(s)
  })

  it('after kill -9 of the resumed run: interrupted (the stale run marker is ignored), counts still exact over both runs', async () => {
    const before = (await status(id)).done!
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'replay', '--resume', id, '--rate', '40', '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    for (let i = 0; (await status(id)).done === before; i++) {
      if (i > 300) throw new Error('the resumed run committed nothing within 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
    await new Promise((r) => child.on('close', r))
    expect(existsSync(join(STATE, 'evt', 'replays', `${id}.running`))).toBe(true)
    const s = await status(id)
    expect(s.state).toBe('interrupted')
    expect(s.done).toBeGreaterThan(before)
    await expectExact(s)
  })

  it('after the last resume: finished, 400 copied and 800 filtered out; the text view says so', async () => {
    const resumed = await runEvt(['replay', '--resume', id, '--yes'], { timeoutMs: 60_000 })
    expect(resumed.code, resumed.stderr).toBe(0)
    const s = await status(id)
    expect([s.state, s.offsets, s.done, s.remaining, s.copied, s.filtered]).toEqual(['finished', 1200, 1200, 0, 400, 800])
    await expectExact(s)
    const text = await runEvt(['replay', 'status', id])
    expect(text.stdout).toContain(`replay ${id}: finished`)
    expect(text.stdout).toContain('1200 source offsets planned, 1200 done, 0 remaining; 400 records copied, 800 filtered out')
    expect(text.stdout).toContain(`clean up with: evt replay clean ${id}`)
  })

  it('an unknown or malformed id: exit 4 / exit 2 with a hint', async () => {
    const unknown = await runEvt(['replay', 'status', 'rp-20200101-000000-beef'])
    expect(unknown.code).toBe(4)
    expect(unknown.stderr).toContain('evt: no replay "rp-20200101-000000-beef" on this machine')
    const bad = await runEvt(['replay', 'status', 'nope'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/evt: "nope" is not a replay id\n {2}hint: /)
  })
})

describe('replay clean', () => {
  const src = uniqueTopic('cl-src')
  const dst = uniqueTopic('cl-dst')
  let finished = ''
  let interrupted = ''

  beforeAll(async () => {
    await createTopic(src, 2)
    await createTopic(dst, 2)
    await fill(src, 600, 2)
    const done = await runEvt(['replay', src, '--from', 'start', '--to', '20', '--to-topic', dst, '--yes'])
    expect(done.code, done.stderr).toBe(0)
    finished = replayId(done.stderr)
    const dst2 = await createTopic(uniqueTopic('cl-dst2'), 2)
    const stopped = await startAndStop(['replay', src, '--from', 'start', '--to-topic', dst2, '--rate', '20', '--yes'], dst2, 'SIGINT')
    expect(stopped.code).toBe(130)
    interrupted = stopped.id
  })

  it('status lists both runs; clean: dry-run and no --yes remove nothing, --yes removes the finished one only, again removes nothing', async () => {
    const list = JSON.parse((await runEvt(['replay', 'status', '--json'])).stdout) as { runs: RunJson[] }
    expect(list.runs.filter((r) => r.id === finished || r.id === interrupted).map((r) => [r.id, r.state])).toEqual([[finished, 'finished'], [interrupted, 'interrupted']].sort())
    const table = await runEvt(['replay', 'status'])
    expect(table.stdout).toMatch(new RegExp(`${finished} +finished +${src} → ${dst} +40 +40 +0 +40 +0 `))
    expect(table.stdout).toMatch(new RegExp(`${interrupted} +interrupted +${src} → `))
    const both = [`_evt-replay-${finished}`, `_evt-replay-${interrupted}`].sort()
    expect(await groupsWith(finished, interrupted)).toEqual(both)

    const dry = await runEvt(['replay', 'clean', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    const { plan } = JSON.parse(dry.stdout) as { plan: { remove: Array<{ id: string; group: string; stateFile: string }>; notSelected: number } }
    expect(plan.remove.filter((e) => e.id === finished || e.id === interrupted)).toEqual([{ id: finished, state: 'finished', group: `_evt-replay-${finished}`, stateFile: stateFile(finished), source: src, target: dst }])
    expect(dry.stdout).not.toContain(interrupted)
    const dryText = await runEvt(['replay', 'clean', '--dry-run'])
    expect(dryText.stdout).toMatch(new RegExp(`^replay clean plan: remove \\d+ progress groups? and \\d+ state files?\\n`))
    expect(dryText.stdout).toMatch(new RegExp(`${finished} +finished +${src} → ${dst} +_evt-replay-${finished} `))
    expect(plan.notSelected).toBeGreaterThanOrEqual(1)
    const noYes = await runEvt(['replay', 'clean'])
    expect(noYes.code).toBe(6)
    expect(noYes.stderr).toContain('--yes')
    expect(await groupsWith(finished, interrupted)).toEqual(both)
    expect(existsSync(stateFile(finished))).toBe(true)

    const clean = await runEvt(['replay', 'clean', '--yes'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.stdout).toContain(`removed ${finished} (group _evt-replay-${finished})`)
    expect(await groupsWith(finished, interrupted)).toEqual([`_evt-replay-${interrupted}`])
    expect([existsSync(stateFile(finished)), existsSync(stateFile(interrupted))]).toEqual([false, true])

    const again = await runEvt(['replay', 'clean', '--yes'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('replay clean: nothing to remove')
    expect(await groupsWith(finished, interrupted)).toEqual([`_evt-replay-${interrupted}`])
  })

  it('refuses a run whose progress group has an active member (exit 6), removes it once the member left; naming an interrupted run removes it', async () => {
    const consumer = await joinedConsumer(`_evt-replay-${interrupted}`, src)
    try {
      const refused = await runEvt(['replay', 'clean', interrupted, '--yes'])
      expect(refused.code).toBe(6)
      expect(refused.stdout).toContain(`${interrupted}: its progress group "_evt-replay-${interrupted}" has 1 active member`)
      expect(refused.stderr).toMatch(/^evt: 1 replay was kept: .*\n {2}hint: /)
      expect(await groupsWith(interrupted)).toEqual([`_evt-replay-${interrupted}`])
      expect(existsSync(stateFile(interrupted))).toBe(true)
    } finally {
      await consumer.disconnect()
    }
    const clean = await runEvt(['replay', 'clean', interrupted, '--yes'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.stdout).toContain('1 of them interrupted: once removed, it can no longer be resumed')
    expect(await groupsWith(interrupted)).toEqual([])
    expect(existsSync(stateFile(interrupted))).toBe(false)
    const again = await runEvt(['replay', 'clean', interrupted, '--yes'])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`already clean (no state file here, no progress group): ${interrupted}`)
  })

  it('names from before the _evt- prefix: a legacy run is listed, resumable and cleaned; a group without a state file is listed as untracked and cleaned by id', async () => {
    const legacyId = `rp-20250101-000000-${randomUUID().slice(0, 4)}`
    const untrackedId = `rp-20250101-000001-${randomUUID().slice(0, 4)}`
    mkdirSync(join(STATE, 'evt', 'replays'), { recursive: true })
    writeFileSync(stateFile(legacyId), JSON.stringify({ id: legacyId, createdAt: '2025-01-01T00:00:00.000Z', source: src, target: dst, partitions: [{ partition: 0, start: 0, end: 300 }, { partition: 1, start: 0, end: 300 }], partitioning: 'same', keepTimestamps: false, transactionalId: `evt-replay-${legacyId}`, progressGroup: `evt-replay-${legacyId}`, brokers: BROKERS }))
    await withTestAdmin(async (admin) => {
      await admin.setOffsets({ groupId: `evt-replay-${legacyId}`, topic: src, partitions: [{ partition: 0, offset: '300' }, { partition: 1, offset: '120' }] })
      await admin.setOffsets({ groupId: `_evt-replay-${untrackedId}`, topic: src, partitions: [{ partition: 0, offset: '5' }] })
    })
    const s = await status(legacyId)
    // progress from an evt that did not count: offsets exact, records copied unknown
    expect([s.state, s.done, s.remaining, s.copied, s.progressGroup]).toEqual(['interrupted', 420, 180, null, `evt-replay-${legacyId}`])
    const list = JSON.parse((await runEvt(['replay', 'status', '--json'])).stdout) as { untracked: Array<{ group: string; replayId: string }> }
    expect(list.untracked.filter((u) => u.replayId === untrackedId)).toEqual([{ group: `_evt-replay-${untrackedId}`, replayId: untrackedId }])

    // resuming it carries on in the old group: only partition 1's offsets 120..300 are copied
    const before = (await readWithEvt(dst)).length
    const resumed = await runEvt(['replay', '--resume', legacyId, '--yes', '--json'], { timeoutMs: 60_000 })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect((await readWithEvt(dst)).length - before).toBe(180)
    expect(await committed(`evt-replay-${legacyId}`, src)).toEqual(new Map([[0, 300], [1, 300]]))
    expect(await groupsWith(legacyId)).toEqual([`evt-replay-${legacyId}`])
    expect([(await status(legacyId)).state, (await status(legacyId)).copied]).toEqual(['finished', null])

    const clean = await runEvt(['replay', 'clean', legacyId, untrackedId, '--yes', '--json'])
    expect(clean.code, clean.stderr).toBe(0)
    const [, results] = clean.stdout.trim().split('\n').map((l) => JSON.parse(l) as { results: Array<{ id: string; group: string; outcome: string }> })
    expect(results.results.map((r) => [r.id, r.group, r.outcome])).toEqual([[legacyId, `evt-replay-${legacyId}`, 'removed'], [untrackedId, `_evt-replay-${untrackedId}`, 'removed']])
    expect(await groupsWith(legacyId, untrackedId)).toEqual([])
    expect(existsSync(stateFile(legacyId))).toBe(false)
  })
})

describe("evt's progress groups are not the user's consumers", () => {
  const src = uniqueTopic('own-src')
  const dst = uniqueTopic('own-dst')
  const req = `req_${randomUUID().slice(0, 8)}`
  const user = uniqueTopic('svc')
  let id = ''

  beforeAll(async () => {
    await createTopic(src, 1)
    await createTopic(dst, 1)
    await writeWithEvt(src, [
      { key: Buffer.from('order-1'), value: Buffer.from(JSON.stringify({ event_id: randomUUID(), event_type: 'OrderPlaced', aggregate_id: 'order-1', metadata: { correlation_id: req, published_by: 'order-service' } })), headers: [], partition: 0 },
      { key: Buffer.from('order-2'), value: Buffer.from(JSON.stringify({ event_id: randomUUID(), event_type: 'OrderPlaced', aggregate_id: 'order-2', metadata: { correlation_id: 'req_other', published_by: 'order-service' } })), headers: [], partition: 0 },
    ])
    const copy = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--yes'])
    expect(copy.code, copy.stderr).toBe(0)
    id = replayId(copy.stderr)
    await withTestAdmin(async (admin) => {
      // a user's consumer that has read both records of the source, and a progress group named the old way
      await admin.setOffsets({ groupId: user, topic: src, partitions: [{ partition: 0, offset: '2' }] })
      await admin.setOffsets({ groupId: `evt-replay-rp-20250101-000000-${id.slice(-4)}`, topic: src, partitions: [{ partition: 0, offset: '2' }] })
    })
  })

  it('trace of a record copied by replay lists the user\'s group only, on the source, and no evt group', async () => {
    expect(await committed(`_evt-replay-${id}`, src)).toEqual(new Map([[0, 2]]))
    const r = await runEvt(['trace', req, '-t', src, '-t', dst, '-f', 'json'])
    expect(r.code, r.stderr).toBe(0)
    const t = JSON.parse(r.stdout) as { records: Array<{ topic: string; offset: number; consumption: Array<{ group: string; status: string }> }> }
    expect(t.records.map((x) => [x.topic, x.offset, x.consumption.map((c) => `${c.group}:${c.status}`)]).sort()).toEqual([[dst, 0, []], [src, 0, [`${user}:consumed`]]].sort())
    const tree = await runEvt(['trace', req, '-t', src, '-t', dst, '-f', 'tree'])
    expect(tree.stdout).not.toMatch(/evt-replay/)
  })

  it('groups hides them (saying how many), --all shows them in their own table, --json marks them', async () => {
    const plain = await runEvt(['groups', '--json'])
    const ids = (JSON.parse(plain.stdout) as Array<{ groupId: string }>).map((g) => g.groupId)
    expect(ids).toContain(user)
    expect(ids.filter((g) => g.startsWith('_evt-') || g.startsWith('evt-replay-') || g.startsWith('evt-dlq-requeue-'))).toEqual([])
    const text = await runEvt(['groups'])
    expect(text.stdout).not.toContain(`_evt-replay-${id}`)
    expect(text.stderr).toMatch(/\(\d+ of evt's own progress groups? not shown: evt groups --all\)/)
    const all = JSON.parse((await runEvt(['groups', '--all', '--json'])).stdout) as Array<{ groupId: string; evt: unknown; members: number }>
    const mine = all.filter((g) => g.groupId.endsWith(id.slice(-4)) && g.groupId.includes('replay') || g.groupId === user)
    expect(mine.map((g) => [g.groupId, g.evt]).sort()).toEqual([
      [`_evt-replay-${id}`, { kind: 'replay', replayId: id, legacy: false }],
      [`evt-replay-rp-20250101-000000-${id.slice(-4)}`, { kind: 'replay', replayId: `rp-20250101-000000-${id.slice(-4)}`, legacy: true }],
      [user, null],
    ].sort())
    const allText = await runEvt(['groups', '--all'])
    const [users, own] = allText.stdout.split("evt's own progress groups")
    expect(users).toContain(user)
    expect(users).not.toContain(`_evt-replay-${id}`)
    expect(own).toMatch(new RegExp(`_evt-replay-${id} +replay ${id} +Empty`))
  })
})
