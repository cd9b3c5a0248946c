/**
 * Event type names as English: is a type a fact (a past participle somewhere in it: `OrderPlaced`,
 * `order.placed`, `payment_captured`, `UserSignedUp`, `StatusChangedToPaid`, `EmailSent`), a
 * command (an imperative verb first: `ProcessPayment`, `CreateShipment`, `send-email`, or a
 * `…Command` suffix), or neither (a noun or a state: `OrderSnapshot`, `PriceQuote`, `Shipping`,
 * `Refund`)? Used by `evt lint`'s `command-on-event-topic` and `event-type-not-past-tense`.
 *
 * A verb list and participle rules, not a grammar; precision over recall: a name is a command
 * only when its first word is a verb that rarely heads a noun phrase and something follows it
 * (`Refund` alone may be a noun), or when a lowercase dotted name ends in such a verb
 * (`payment.capture`).
 *
 * Steps:
 * 1. Namespaces go: `.NET` assembly suffixes (`, Assembly`), URN / path prefixes (`urn:…:`, `/`),
 *    nested-type `+`, `#`; version segments (`v1`, `V2`, `2`) go; a qualified class name
 *    (`com.acme.PlaceOrder`) keeps its last (capitalised) segment; a lowercase dotted name
 *    (`order.payment.captured.v1`) keeps all its segments as words.
 * 2. Words: camelCase / PascalCase, snake_case, kebab-case, dots.
 * 3. Suffixes without meaning go (`Event`, `IntegrationEvent`, `DomainEvent`, `Evt`, `Message`,
 *    `Msg`, trailing versions `V2`); a `Command` / `Cmd` suffix makes a command.
 * 4. Any word a past participle (`-ed`, irregular `sent`, `paid`, `built`, `held`, …; a form
 *    equal to its base, `reset`, `set`, `put`, only when not first) → fact.
 * 5. First word an imperative verb and more words follow, or a lowercase dotted name ending in
 *    a verb → command. Else → other.
 */

/** What a type name reads as. */
export type TypeKind = 'fact' | 'command' | 'other'

/** Names (exact type strings or their last segment, any case) the profile declares to be facts or commands. */
export interface NameHints {
  facts?: readonly string[]
  commands?: readonly string[]
}

/** Verbs that, first in a type name, make it an instruction. Verbs that often head nouns (`order`, `invoice`, `record`, `issue`, `return`, …) are left out on purpose. */
const VERBS = new Set(
  (
    'accept activate add adjust allocate apply approve archive assign authorize authorise calculate cancel capture ' +
    'charge compute confirm create deactivate decline delete deliver deny disable dispatch do enable enqueue enroll ' +
    'execute expire fetch finalize finalise fulfill fulfil generate get grant handle increment initiate invalidate invite ' +
    'notify pay perform place prepare process provision publish purchase rebuild recalculate refresh refund register ' +
    'reject release remove rename renew reopen replace rerun reserve reset resend restore resume retry revoke ' +
    'save schedule send ship sign start stop submit subscribe suspend terminate trigger unblock ' +
    'unlink unlock unsubscribe update upsert validate verify withdraw'
  ).split(' '),
)

/** Past participles that do not end in -ed. */
const IRREGULAR_PAST = new Set(
  (
    'begun bitten blown born borne bought bound bred broken brought built burnt caught chosen come dealt done drawn driven dug eaten ' +
    'fallen fed felt fled flown forbidden forgiven forgotten fought found frozen given gone got gotten grown heard held hidden hung ' +
    'kept knelt known laid led lent lit lost made meant met mistaken overcome paid proven ridden risen said seen sent sewn shaken ' +
    'shone shot shown shrunk slept slid sold sought spent spoken spun stolen stood struck stuck sung sunk swept sworn taken taught ' +
    'thought thrown told torn understood upheld withheld woken won worn wound written'
  ).split(' '),
)

/** Participles spelt like their base form: facts only when not the first word (`PasswordReset`, not `ResetPassword`). */
const SAME_FORM_PAST = new Set('bid broadcast cast cost cut forecast hit let put quit read reset run set shut split spread upset'.split(' '))

/** Prefixes that keep a participle a participle (`resent`, `unpaid`, `prepaid`, `overwritten`). */
const PREFIXES = ['re', 'un', 'pre', 'over', 'under', 'mis', 'out', 'with', 'up']

/** Words ending in -ed that are not past tense. */
const NOT_PAST = new Set('bed bleed breed deed embed exceed feed greed hundred kindred naked need proceed ragged red rugged sacred seed shed speed steed succeed wicked weed'.split(' '))

/** Suffix words without meaning, dropped from the end. */
const NOISE_SUFFIXES = new Set(['event', 'evt', 'message', 'msg', 'integration', 'domain'])

const VERSION = /^v?\d+$/i

/** A type name without namespaces and versions, split into lowercase words (step 1 and 2). */
export function typeWords(name: string): { words: string[]; dottedLowercase: boolean } {
  let text = name.split(',')[0].trim()
  text = text.slice(Math.max(text.lastIndexOf(':'), text.lastIndexOf('/'), text.lastIndexOf('+'), text.lastIndexOf('#')) + 1)
  const segments = text.split('.').filter((s) => s !== '' && !VERSION.test(s))
  if (segments.length === 0) return { words: [], dottedLowercase: false }
  const dottedLowercase = segments.length > 1 && !segments.some((s) => /[A-Z]/.test(s))
  const kept = dottedLowercase ? segments : [segments[segments.length - 1]]
  const words = kept
    .join(' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase())
  return { words, dottedLowercase }
}

/** True for a past participle (see the module comment); `first` = the word opens the name. */
export function isParticiple(word: string, first = false): boolean {
  if (IRREGULAR_PAST.has(word)) return true
  if (!first && SAME_FORM_PAST.has(word)) return true
  for (const p of PREFIXES) if (word.startsWith(p) && word.length > p.length + 2 && IRREGULAR_PAST.has(word.slice(p.length))) return true
  return word.length >= 4 && word.endsWith('ed') && !NOT_PAST.has(word)
}

function hinted(name: string, list: readonly string[] | undefined): boolean {
  if (!list?.length) return false
  const lower = name.toLowerCase()
  const last = lower.slice(Math.max(lower.lastIndexOf('.'), lower.lastIndexOf(':'), lower.lastIndexOf('/'), lower.lastIndexOf('+')) + 1)
  return list.some((n) => {
    const h = n.toLowerCase()
    return h === lower || h === last
  })
}

/**
 * Classifies an event type name (see the module comment). `hints` (the profile's `lint.facts` /
 * `lint.commands`) win over the rules. Never throws; an empty name is `other`.
 */
export function classifyType(name: string, hints: NameHints = {}): TypeKind {
  if (hinted(name, hints.commands)) return 'command'
  if (hinted(name, hints.facts)) return 'fact'
  const { words, dottedLowercase } = typeWords(name)
  // 3. suffixes
  while (words.length > 1 && (NOISE_SUFFIXES.has(words[words.length - 1]) || VERSION.test(words[words.length - 1]))) words.pop()
  if (words.length === 0) return 'other'
  const last = words[words.length - 1]
  if (last === 'command' || last === 'cmd') return 'command'
  // 4. participles
  if (words.some((w, i) => isParticiple(w, i === 0))) return 'fact'
  // 5. imperatives
  if (words.length > 1 && VERBS.has(words[0])) return 'command'
  if (dottedLowercase && words.length > 1 && VERBS.has(last)) return 'command'
  return 'other'
}
