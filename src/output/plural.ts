/** `1 record`, `3 records`: a count and its noun (plural with `s`, or `pluralNoun`), singular for exactly one. */
export function plural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : pluralNoun}`
}
