/**
 * Confirmation before a write: asked on a terminal, otherwise a refusal naming the flag.
 */
import { createInterface } from 'node:readline/promises'
import { refusedError } from '../errors.ts'

/** True when a prompt can be shown: stdin and stderr are terminals and CI is unset. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI
}

/**
 * Resolves when the user agreed (or `yes` was given).
 * @throws EvtError refused (exit 6) when declined, or when there is no terminal and no `yes`.
 */
export async function confirmWrite(question: string, options: { yes?: boolean; flag?: string } = {}): Promise<void> {
  if (options.yes) return
  const flag = options.flag ?? '--yes'
  if (!canPrompt()) throw refusedError('this writes to Kafka and there is no terminal to confirm on', `review the plan (--dry-run), then pass ${flag}`)
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase()
    if (answer !== 'y' && answer !== 'yes') throw refusedError('not confirmed: nothing was written', `pass ${flag} to skip the question`)
  } finally {
    rl.close()
  }
}
