/** The start of an `evt outbox` window, as users type it. */
import { parseDuration, parseInstant } from '../time.ts'

/**
 * `15m`, `1h`, `2d` (that long before `now`), or an instant as {@link parseInstant} reads it
 * (RFC 3339, a date, epoch seconds or ms). Returns epoch ms.
 * @throws EvtError (usage, exit 2) naming --since.
 */
export function parseSince(text: string, now: number = Date.now()): number {
  const t = text.trim()
  if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(t)) return now - parseDuration(t, '--since')
  return parseInstant(t, '--since')
}
