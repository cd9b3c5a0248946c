import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FLUSH = fileURLToPath(new URL('../../bin/flush.js', import.meta.url))

// Fills the pipe, waits for 'drain', then writes 10 small lines (under the high-water mark) while
// the pipe is still full, so no second 'drain' comes: the shape of `evt tail … -e | slow reader`.
const WRITER = `
import { flushed } from ${JSON.stringify(FLUSH)}
const line = 'x'.repeat(100) + '\\n'
for (let i = 0; i < 3000; i++) process.stdout.write(line)
await new Promise((r) => process.stdout.once('drain', r))
for (let i = 0; i < 10; i++) process.stdout.write('y'.repeat(1000) + '\\n')
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit()
`

// Reads 4 KiB from its stdin every 20 ms (a synchronous read on the pipe, no stream buffer in
// between), then prints the byte count.
const SLOW_READER = `
const fs = require('node:fs')
const buf = Buffer.alloc(4096)
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
let n = 0
for (;;) {
  let r
  try { r = fs.readSync(0, buf, 0, buf.length, null) } catch (e) { if (e.code === 'EAGAIN') { pause(5); continue } throw e }
  if (r === 0) break
  n += r
  pause(20)
}
process.stdout.write(String(n))
`

/**
 * Runs the writer piped into the slow reader by a shell (as a user's pipe is: nothing buffers in
 * between); returns the writer's exit code (pipefail: the reader exits 0), its stderr, and the
 * bytes read.
 */
async function runWithSlowReader(): Promise<{ code: number | null; bytes: number; stderr: string }> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', '"$0" --input-type=module -e "$1" | "$0" -e "$2"', process.execPath, WRITER, SLOW_READER])
  let stderr = ''
  let out = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((r) => child.on('close', r))
  return { code, bytes: Number(out), stderr }
}

describe('flushed (bin/flush.js)', () => {
  it('waits out a slow reader after a last write that got no drain: every byte, exit 0, never 13', async () => {
    const { code, bytes, stderr } = await runWithSlowReader()
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(bytes).toBe(3000 * 101 + 10 * 1001)
  }, 60_000)

  it('resolves at once when nothing is pending', async () => {
    // @ts-expect-error plain ESM script without type declarations
    const { flushed } = (await import('../../bin/flush.js')) as { flushed: (s: NodeJS.WriteStream) => Promise<void> }
    const stream = { destroyed: false, writableLength: 0 } as unknown as NodeJS.WriteStream
    await expect(flushed(stream)).resolves.toBeUndefined()
  })
})
