/**
 * Filters that cannot hang evt, on the real broker: a filter over its per-record budget stops the
 * command with a usage error naming the record; a slow filter still lets Ctrl-C end tail, dlq
 * inspect and replay at once.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { createTopic, eventually, readWithEvt, runEvt, startEvt, uniqueTopic, writeWithEvt } from '../support/kafka.ts'

/** Each evaluation of this filter costs about n²/2 steps for a value holding n items. */
const NESTED = 'value.items.all(a, value.items.exists(b, b == a))'

function items(n: number, i = 0): ProduceRecord {
  return { key: null, value: Buffer.from(JSON.stringify({ i, items: Array.from({ length: n }, (_, k) => k) })), headers: [], partition: 0 }
}

/** CPU time (s) a process has used, from /proc/<pid>/stat (utime + stime, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * Starts evt, waits until it has used 3 s of CPU (start-up and connecting take well under 1 s: the
 * rest is the filter), sends SIGINT, and returns how long the exit took (ms).
 */
async function interrupt(args: string[]): Promise<{ code: number | null; afterSignalMs: number; stderr: string; stdout: string }> {
  const evt = startEvt(args)
  expect(await eventually(() => cpuSeconds(evt.child.pid!) >= 3, 30_000)).toBe(true)
  const signalled = Date.now()
  evt.child.kill('SIGINT')
  const code = await evt.exit
  return { code, afterSignalMs: Date.now() - signalled, stderr: evt.stderr(), stdout: evt.stdout() }
}

describe('filter limits', () => {
  it('a filter over its per-record budget ends tail with exit 2 naming the record, no stack trace', async () => {
    const topic = await createTopic(uniqueTopic('flt-budget'), 1)
    await writeWithEvt(topic, [items(3, 0), items(20_000, 1)])
    const run = await runEvt(['tail', topic, '-o', 'start', '-e', '--filter', NESTED, '-f', 'json'])
    expect(run.code).toBe(2)
    const lines = run.stderr.trim().split('\n')
    expect(lines[0]).toBe(`evt: --filter took more than 1 s on one record on ${topic}/0@1: macros nested over a record's lists (all, exists, map, filter) cost their lengths multiplied`)
    expect(lines[1]).toMatch(/^ {2}hint: make the filter cheaper per record/)
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(JSON.parse(run.stdout.trim()).offset).toBe(0) // the cheap record before it was printed
  })

  it('Ctrl-C ends tail, dlq inspect and replay within moments while a slow filter runs', async () => {
    // ~70 ms per record: 400 records keep the filter busy for about half a minute
    const topic = await createTopic(uniqueTopic('flt-sigint'), 1)
    for (let b = 0; b < 400; b += 100) await writeWithEvt(topic, Array.from({ length: 100 }, (_, i) => items(700, b + i)))

    const tail = await interrupt(['tail', topic, '-o', 'start', '-e', '--filter', NESTED, '-f', 'json'])
    expect(tail.code).toBe(130)
    expect(tail.afterSignalMs).toBeLessThan(3000)

    const inspect = await interrupt(['dlq', 'inspect', topic, '--no-ui', '--json', '--filter', NESTED])
    expect(inspect.code).toBe(130)
    expect(inspect.afterSignalMs).toBeLessThan(3000)

    const target = await createTopic(uniqueTopic('flt-sigint-copy'), 1)
    const replay = await interrupt(['replay', topic, '--to-topic', target, '--from', 'start', '--filter', NESTED, '--yes'])
    expect(replay.code).toBe(130)
    expect(replay.afterSignalMs).toBeLessThan(3000)
    // records are copied in transactions with their progress: a slice cut short is not sent
    const copied = await readWithEvt(target)
    expect(copied.length).toBeLessThan(400)
    expect(new Set(copied.map((r) => JSON.parse(r.value!.toString()).i)).size).toBe(copied.length)
  }, 120_000)
})
