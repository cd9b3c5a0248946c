/**
 * looksLikeCommand: does an event type name read as an imperative (a command: `ProcessPayment`,
 * `process_payment`, `payment.capture`) rather than a fact (`OrderPlaced`, `order.confirmed`)?
 * A small heuristic for the "command on an events topic" anomaly, not a grammar:
 *
 * 1. Namespaces go: `.NET` assembly suffixes (`, Assembly, Version=…`), URN / path prefixes
 *    (`urn:message:Ns:`, `/`), nested-type `+`, and for a qualified class name
 *    (`com.acme.PlaceOrder`) everything before the capitalised last segment. For lowercase
 *    dotted names (`payment.capture.v1`) version segments (`v1`) are dropped and the last
 *    segment is the action.
 * 2. The last segment is split into words (camelCase, snake_case, kebab-case).
 * 3. A `…Command`/`…Cmd` suffix → command; an `…Event` suffix → fact.
 * 4. The last word in the past tense (`-ed`, or a common irregular participle such as `sent`,
 *    `paid`) → fact.
 * 5. The first word a common imperative verb (`process`, `create`, `send`, …) → command; so is a
 *    lowercase dotted `resource.verb` (`payment.capture`).
 * Anything else (nouns, `-ing` states) → not a command.
 */

const VERBS = new Set(
  (
    'accept activate add adjust allocate apply approve archive assign authorize authorise block book calculate cancel capture change ' +
    'charge check clear close collect complete compute confirm create credit deactivate debit decline delete deliver deny deposit ' +
    'disable dispatch do enable enqueue enroll execute expire export fetch finalize finalise fulfill fulfil generate get grant ' +
    'handle import increment initiate invalidate invite invoice issue link load lock mark merge modify move notify open pay perform ' +
    'place post prepare print process provision publish purchase push query rebuild recalculate record refresh refund register ' +
    'reject release remove rename renew reopen replace request rerun reserve reset resend restore resume retry return revoke run ' +
    'save schedule search send set ship sign start stop store submit subscribe suspend sync terminate transfer trigger unblock ' +
    'unlink unlock unsubscribe update upload upsert validate verify void withdraw'
  ).split(' '),
)

/** Past participles that do not end in -ed. */
const IRREGULAR_PAST = new Set(
  'begun bought broken brought built caught chosen done drawn driven fallen forgotten found frozen given gone held hidden kept known left lost made met paid rebuilt resent sent shown sold spent split taken thrown undone withdrawn won written'.split(
    ' ',
  ),
)

/** Words ending in -ed that are not past tense. */
const NOT_PAST = new Set('bed embed exceed feed need proceed red seed shed speed succeed'.split(' '))

const VERSION = /^v\d+$/i

/** See the module comment for the rules. */
export function looksLikeCommand(eventType: string): boolean {
  // 1. Namespaces.
  let name = eventType.split(',')[0].trim()
  name = name.slice(Math.max(name.lastIndexOf(':'), name.lastIndexOf('/'), name.lastIndexOf('+'), name.lastIndexOf('#')) + 1)
  const segments = name.split('.').filter((s) => s !== '' && !VERSION.test(s))
  if (segments.length === 0) return false
  const last = segments[segments.length - 1]
  const dottedLowercase = segments.length > 1 && !/[A-Z]/.test(last)

  // 2. Words of the last segment.
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase())
  if (words.length === 0) return false

  // 3. Explicit suffixes.
  const lastWord = words[words.length - 1]
  if (lastWord === 'command' || lastWord === 'cmd') return true
  if (lastWord === 'event' || lastWord === 'evt') return false

  // 4. Past tense.
  if (isPastTense(lastWord)) return false

  // 5. Imperative verb first (or resource.verb).
  if (VERBS.has(words[0])) return true
  return dottedLowercase && words.length === 1 && VERBS.has(lastWord)
}

function isPastTense(word: string): boolean {
  if (IRREGULAR_PAST.has(word)) return true
  return word.length >= 4 && word.endsWith('ed') && !NOT_PAST.has(word)
}
