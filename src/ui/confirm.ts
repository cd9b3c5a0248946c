/**
 * Confirmation before a write: asked on a terminal, otherwise a refusal naming the flag.
 */
import { createInterface } from 'node:readline/promises'
import { EvtError, refusedError } from '../errors.ts'

/** True when a prompt can be shown: stdin and stderr are terminals and CI is unset. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI
}

/**
 * Resolves when the user agreed (or `yes` was given).
 * @throws EvtError refused (exit 6) when declined (or Ctrl-D), or when there is no terminal and no `yes`;
 *   interrupted (exit 130) on Ctrl-C.
 */
export async function confirmWrite(question: string, options: { yes?: boolean; flag?: string } = {}): Promise<void> {
  if (options.yes) return
  const flag = options.flag ?? '--yes'
  if (!canPrompt()) throw refusedError('this writes to Kafka and there is no terminal to confirm on', `review the plan (--dry-run), then pass ${flag}`)
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  let answer: string
  try {
    answer = await new Promise<string>((resolve, reject) => {
      rl.once('SIGINT', () => reject(new EvtError('interrupted', 'interrupted at the confirmation: nothing was written')))
      rl.once('close', () => resolve('')) // Ctrl-D: no answer is a no
      rl.question(`${question} [y/N] `).then(resolve, (err: Error) => reject(err.name === 'AbortError' ? new EvtError('interrupted', 'interrupted at the confirmation: nothing was written') : err))
    })
  } finally {
    rl.close()
  }
  answer = answer.trim().toLowerCase()
  if (answer !== 'y' && answer !== 'yes') throw refusedError('not confirmed: nothing was written', `pass ${flag} to skip the question`)
}
