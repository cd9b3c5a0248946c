/** makeDirs: `mkdir -p` that fails where Node's recursive mkdir spins (paths under /proc). */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeDirs } from '../../src/util/fs.ts'

describe('makeDirs', () => {
  it('creates missing parents, and accepts a folder that exists', () => {
    const base = mkdtempSync(join(tmpdir(), 'evt-make-dirs-'))
    const deep = join(base, 'a', 'b', 'c')
    makeDirs(deep)
    expect(statSync(deep).isDirectory()).toBe(true)
    makeDirs(deep)
    makeDirs(base)
    expect(statSync(join(base, 'a', 'b')).isDirectory()).toBe(true)
  })

  it('throws ENOTDIR when a parent is a file', () => {
    const base = mkdtempSync(join(tmpdir(), 'evt-make-dirs-'))
    writeFileSync(join(base, 'file'), 'x')
    expect(() => makeDirs(join(base, 'file', 'sub', 'deeper'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }))
  })

  it.runIf(process.platform === 'linux')('throws ENOENT under /proc instead of looping', () => {
    expect(() => makeDirs('/proc/evt-nope/evt/index')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })
})
