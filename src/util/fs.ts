/**
 * File-system helpers.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { EvtError } from '../errors.ts'

/**
 * The error for a state folder evt cannot use (`$XDG_STATE_HOME/evt/…`): a usage error (exit 2), since the
 * setting is what needs fixing, naming the folder and the system's reason.
 */
export function stateFolderError(dir: string, err: unknown): EvtError {
  return new EvtError('usage', `cannot use evt's state folder ${dir}: ${(err as Error).message}`, { hint: 'set XDG_STATE_HOME to a folder you can write (evt keeps replay definitions and local trace indexes there)' })
}

/**
 * Creates a folder and its missing parents, like `mkdir -p`. Unlike `mkdirSync(path, { recursive: true })`,
 * it fails instead of looping forever where a parent can never be created (Node 24 spins on a
 * path under `/proc`, e.g. `XDG_STATE_HOME=/proc/nope`).
 * @throws the `mkdir` error (ENOENT, EACCES, ENOTDIR, EROFS…) of the first folder that cannot be made.
 */
export function makeDirs(path: string): void {
  const missing: string[] = []
  let dir = resolve(path)
  for (;;) {
    try {
      mkdirSync(dir)
      break
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') break
      const parent = dirname(dir)
      if (code !== 'ENOENT' || parent === dir) throw err
      missing.push(dir)
      dir = parent
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}
