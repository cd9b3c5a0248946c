/**
 * The helpers every command shares (src/base-command.ts): the planned-write flow, --json ≡ -f json,
 * the live-view rule and Ctrl-C as an AbortSignal. Pure logic: no cluster (vitest runs without a terminal).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EvtCommand, type PlannedWrite, type WriteFlagValues } from '../../src/base-command.ts'
import { EvtError } from '../../src/errors.ts'

class Probe extends EvtCommand {
  async run(): Promise<void> {}
  write<P, R>(flags: WriteFlagValues, w: PlannedWrite<P, R>) {
    return this.plannedWrite(flags, w)
  }
  format<F extends string>(flags: { json?: boolean; format?: F }, d: { tty: F; piped: F }) {
    return this.outputFormat(flags, d)
  }
  live(flags: Parameters<EvtCommand['liveView']>[0], o?: Parameters<EvtCommand['liveView']>[1]) {
    return this.liveView(flags, o)
  }
  interrupt() {
    return this.interruptSignal()
  }
  end() {
    return this.finally(undefined)
  }
}

const probe = () => new Probe([], {} as never)

function capture(): { out: string[]; restore: () => void } {
  const out: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out.push(String(chunk))
    return true
  })
  return { out, restore: () => spy.mockRestore() }
}

afterEach(() => vi.restoreAllMocks())

describe('plannedWrite', () => {
  const write = (execute: () => Promise<number>, extra: Partial<PlannedWrite<{ n: number }, number>> = {}): PlannedWrite<{ n: number }, number> => ({
    plan: { n: 2 },
    render: (p) => `plan: ${p.n}`,
    question: 'Go?',
    execute,
    result: (r) => ({ json: { done: r }, text: `done ${r}` }),
    ...extra,
  })

  it('--dry-run prints the plan and writes nothing', async () => {
    const c = capture()
    const execute = vi.fn(async () => 1)
    expect(await probe().write({ json: false, yes: true, 'dry-run': true }, write(execute))).toBeUndefined()
    c.restore()
    expect(c.out).toEqual(['plan: 2\n'])
    expect(execute).not.toHaveBeenCalled()
  })

  it('--yes writes and prints the result; --json prints {"plan"} then the result as JSON lines', async () => {
    const c = capture()
    expect(await probe().write({ json: true, yes: true, 'dry-run': false }, write(async () => 7))).toBe(7)
    c.restore()
    expect(c.out).toEqual(['{"plan":{"n":2}}\n', '{"done":7}\n'])
  })

  it('without --yes and without a terminal it refuses (exit 6) and writes nothing', async () => {
    const c = capture()
    const execute = vi.fn(async () => 1)
    const err = await probe().write({ json: false, yes: false, 'dry-run': false }, write(execute)).catch((e: unknown) => e)
    c.restore()
    expect(err).toBeInstanceOf(EvtError)
    expect((err as EvtError).exitCode).toBe(6)
    expect(execute).not.toHaveBeenCalled()
  })

  it('a refusal stops it before --dry-run and the write; nothing to do ends it without asking', async () => {
    const c = capture()
    const execute = vi.fn(async () => 1)
    await expect(probe().write({ json: false, yes: true, 'dry-run': true }, write(execute, { refuse: () => { throw new EvtError('refused', 'no') } }))).rejects.toThrow('no')
    expect(await probe().write({ json: true, yes: false, 'dry-run': false }, write(execute, { nothingToDo: () => 'already there' }))).toBeUndefined()
    c.restore()
    expect(execute).not.toHaveBeenCalled()
  })
})

describe('outputFormat and liveView', () => {
  it('--json is -f json; --json with another format is a usage error; the default follows the terminal', () => {
    expect(probe().format({ json: true }, { tty: 'pretty', piped: 'json' })).toBe('json')
    expect(probe().format({ json: true, format: 'json' }, { tty: 'pretty', piped: 'json' })).toBe('json')
    expect(probe().format({ format: 'raw' }, { tty: 'pretty', piped: 'json' })).toBe('raw')
    expect(() => probe().format({ json: true, format: 'raw' }, { tty: 'pretty', piped: 'json' })).toThrow('--json and -f raw cannot be combined')
    expect(probe().format({}, { tty: 'pretty', piped: 'json' })).toBe(process.stdout.isTTY ? 'pretty' : 'json')
  })

  it('the live view needs a terminal, and none of --no-ui, --json, another format, --template or a bounded read', () => {
    const tty = { stdout: process.stdout.isTTY, stdin: process.stdin.isTTY, ci: process.env.CI }
    try {
      Object.assign(process.stdout, { isTTY: true })
      Object.assign(process.stdin, { isTTY: true })
      delete process.env.CI
      const p = probe()
      expect(p.live({})).toBe(true)
      expect(p.live({ format: 'tree' }, { uiFormat: 'tree' })).toBe(true)
      for (const flags of [{ 'no-ui': true }, { json: true }, { format: 'json' }, { template: '%v' }]) expect(p.live(flags), JSON.stringify(flags)).toBe(false)
      expect(p.live({}, { bounded: true })).toBe(false)
      process.env.CI = '1'
      expect(p.live({})).toBe(false)
      delete process.env.CI
      Object.assign(process.stdin, { isTTY: false })
      expect(p.live({})).toBe(false)
    } finally {
      Object.assign(process.stdout, { isTTY: tty.stdout })
      Object.assign(process.stdin, { isTTY: tty.stdin })
      if (tty.ci === undefined) delete process.env.CI
      else process.env.CI = tty.ci
    }
  })
})

describe('interruptSignal', () => {
  it('a SIGINT aborts the signal and marks it interrupted; abort() does not; finally() removes the listener', async () => {
    const before = process.listenerCount('SIGINT')
    const p = probe()
    const a = p.interrupt()
    const b = p.interrupt()
    expect(process.listenerCount('SIGINT')).toBe(before + 2)
    b.abort()
    expect([b.signal.aborted, b.interrupted]).toEqual([true, false])
    process.emit('SIGINT', 'SIGINT')
    expect([a.signal.aborted, a.interrupted]).toEqual([true, true])
    await p.end()
    expect(process.listenerCount('SIGINT')).toBe(before)
  })
})
