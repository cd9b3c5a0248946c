/**
 * The names evt gives its own state in a cluster: the consumer groups that hold the progress of a
 * `replay --to-topic` or a `dlq requeue` (committed in the same transactions as the records they
 * move, see src/replay/move.ts) and the transactional ids of their producers (the same string as
 * the group). Defined here and nowhere else.
 *
 * Every name starts with {@link EVT_PREFIX} (`_evt-`): one prefix to recognise evt's groups in any
 * tool's group list, to hide them from lists of the user's consumers (`evt groups`, `evt trace`),
 * and to grant evt in one ACL (`--resource-pattern-type prefixed` on group and transactional id
 * `_evt-`). A leading underscore is the convention of platform components for their own groups
 * (`_confluent-…`, ksqlDB's `_confluent-ksql-…`).
 *
 * - replay: `_evt-replay-<replay id>` (`_evt-replay-rp-20261129-141500-3fa2`)
 * - requeue: `_evt-requeue-<dlq topic>-<8 hex: hash of the selection>`
 * - trace index workers: `_evt-index-<index name>` (`_evt-index-default`)
 *
 * Names written by evt before this prefix (`evt-replay-<id>`, `evt-dlq-requeue-<dlq>-<hash>`) are
 * still recognised as evt's own, so runs started then can be resumed, listed and cleaned.
 */

/** The prefix of every group id and transactional id evt creates. */
export const EVT_PREFIX = '_evt-'

/** Prefixes evt used before {@link EVT_PREFIX}: still evt's own. */
export const LEGACY_PREFIXES = ['evt-replay-', 'evt-dlq-requeue-'] as const

const REPLAY = `${EVT_PREFIX}replay-`
const REQUEUE = `${EVT_PREFIX}requeue-`
const INDEX = `${EVT_PREFIX}index-`

/** The consumer group of the workers of a trace index (`evt index run --name`). */
export function indexGroup(name: string): string {
  return `${INDEX}${name}`
}

/** Progress group and transactional id of a copy replay. */
export function replayProgressGroup(replayId: string): string {
  return `${REPLAY}${replayId}`
}

/** The name the same replay's group had before {@link EVT_PREFIX} (`evt-replay-<id>`). */
export function legacyReplayProgressGroup(replayId: string): string {
  return `${LEGACY_PREFIXES[0]}${replayId}`
}

/** Progress group and transactional id of a requeue: DLQ topic + an 8-hex hash of the selection. */
export function requeueProgressGroup(dlqTopic: string, selectionHash: string): string {
  return `${REQUEUE}${dlqTopic}-${selectionHash}`
}

/** The name the same requeue's group had before {@link EVT_PREFIX} (`evt-dlq-requeue-<dlq>-<hash>`). */
export function legacyRequeueProgressGroup(dlqTopic: string, selectionHash: string): string {
  return `${LEGACY_PREFIXES[1]}${dlqTopic}-${selectionHash}`
}

/** What one of evt's own group ids is for. */
export type EvtGroup =
  | { kind: 'replay'; replayId: string; legacy: boolean }
  | { kind: 'requeue'; dlqTopic: string; selectionHash: string; legacy: boolean }
  | { kind: 'index'; name: string; legacy: false }
  | { kind: 'other'; legacy: boolean }

/** Reads a group id (or transactional id): what it is for when evt made it, else null (a user's group). */
export function evtGroup(groupId: string): EvtGroup | null {
  for (const [prefix, legacy] of [[REPLAY, false], [LEGACY_PREFIXES[0], true]] as const) {
    if (groupId.startsWith(prefix)) return { kind: 'replay', replayId: groupId.slice(prefix.length), legacy }
  }
  for (const [prefix, legacy] of [[REQUEUE, false], [LEGACY_PREFIXES[1], true]] as const) {
    if (!groupId.startsWith(prefix)) continue
    const m = /^(.+)-([0-9a-f]{8})$/.exec(groupId.slice(prefix.length))
    return m ? { kind: 'requeue', dlqTopic: m[1], selectionHash: m[2], legacy } : { kind: 'other', legacy }
  }
  if (groupId.startsWith(INDEX)) return { kind: 'index', name: groupId.slice(INDEX.length), legacy: false }
  return groupId.startsWith(EVT_PREFIX) ? { kind: 'other', legacy: false } : null
}

/** True for a group id (or transactional id) evt made for its own state, new or legacy name. */
export function isEvtGroup(groupId: string): boolean {
  return evtGroup(groupId) !== null
}
