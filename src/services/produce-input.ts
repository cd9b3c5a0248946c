/**
 * The input of `evt produce`: the value argument, an @file or stdin, as records (whole, or one per
 * line; `--input json` lines as `evt tail -f json` writes them, byte-exact).
 */
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { EvtError, usageError } from '../errors.ts'
import type { ProduceRecord } from './produce.ts'
import { parseJsonLine, splitLines, untilAborted } from '../codec/input.ts'

/** Paths that name this process's stdin. */
const STDIN_PATHS = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0'])

/** The produce flags {@link produceInput} reads. */
export type ProduceInputFlags = LineFlags & { tombstone: boolean; lines: boolean }

/**
 * The records of `evt produce`'s input: a tombstone, the value argument (whole, or split into lines
 * with `lines` or `input: 'json'`), an @file, or `stdin` (whole, or line by line). A line that cannot
 * be read is noted in `where` before its error is thrown; `where.pending` lists the input lines of
 * records handed out and not yet written (the caller shifts it per record written). Aborting
 * `signal` stops reading (a whole value cut short is not handed out).
 * @throws EvtError usage: a file that cannot be read, no value with stdin a terminal, a bad JSON line.
 */
export async function* produceInput(value: string | undefined, flags: ProduceInputFlags, base: Omit<ProduceRecord, 'value'>, signal: AbortSignal, where: BadLine, stdin: Readable & { isTTY?: boolean } = process.stdin): AsyncGenerator<ProduceRecord> {
  if (flags.tombstone) {
    yield { ...base, value: null }
    return
  }
  const byLine = flags.lines || flags.input === 'json'
  // @/dev/stdin is stdin itself (which may be a socket that cannot be opened again by path)
  const file = value?.startsWith('@') && !STDIN_PATHS.has(value.slice(1)) ? value.slice(1) : undefined
  if (value !== undefined && value.startsWith('@') && !file) value = '-'
  if (value !== undefined && !file && value !== '-') {
    if (byLine) {
      let n = 0
      for (const line of value.split('\n')) yield* fromLine(Buffer.from(line.endsWith('\r') ? line.slice(0, -1) : line, 'utf8'), ++n, flags, base, where)
    } else yield { ...base, value: Buffer.from(value) }
    return
  }
  if (!file && stdin.isTTY) throw usageError('no value given and stdin is a terminal', 'pass the value as an argument, @file, or pipe records into stdin')
  // Opened once and read from that descriptor: a pipe (@/dev/stdin, @<(…)) can be read only once.
  let fd: number | undefined
  if (file) {
    try {
      fd = openSync(file, 'r')
      if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    } catch (err) {
      if (fd !== undefined) closeSync(fd)
      throw new EvtError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { hint: 'check the path after @' })
    }
  }
  const stream = fd !== undefined ? createReadStream('', { fd }) : stdin
  stream.on('error', () => {})
  // Ctrl-C: stop reading, and let go of stdin so the process can exit once the rest is written
  const release = () => stream.destroy()
  signal.addEventListener('abort', release, { once: true })
  try {
    if (byLine) {
      let n = 0
      for await (const line of splitLines(stream, { stripCr: true, signal })) yield* fromLine(line, ++n, flags, base, where)
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of untilAborted<Buffer | string>(stream, signal)) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    // interrupted: the value may be cut short, so nothing is written
    if (!signal.aborted) yield { ...base, value: Buffer.concat(chunks) }
  } finally {
    signal.removeEventListener('abort', release)
  }
}

function* fromLine(line: Buffer, n: number, flags: LineFlags, base: Omit<ProduceRecord, 'value'>, where: BadLine): Generator<ProduceRecord> {
  if (isBlank(line)) return
  if (flags.input === 'json') {
    let r: ReturnType<typeof parseJsonLine>
    try {
      r = parseJsonLine(line.toString('utf8'), n, { keepTimestamps: flags['keep-timestamps'] })
    } catch (err) {
      where.line = n
      where.error = err
      throw err
    }
    where.pending.push(n)
    yield { key: r.key, value: r.value, headers: r.headers, partition: flags.partition, timestamp: flags['keep-timestamps'] ? r.timestamp : undefined }
  } else {
    where.pending.push(n)
    yield { ...base, value: line }
  }
}

/** The input line that could not be read, and its error; the input lines of the records read but not yet written, in order. */
export interface BadLine {
  line?: number
  error?: unknown
  pending: number[]
}

/** The produce flags that shape reading by line. */
export interface LineFlags {
  input: 'raw' | 'json'
  'keep-timestamps': boolean
  partition?: number
}

/** Empty or only spaces and tabs: skipped (a line holding U+2028 or any other byte is a record). */
function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09) return false
  return true
}
