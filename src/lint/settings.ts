/**
 * The profile's `lint:` section and its resolution per topic:
 *
 * ```yaml
 * lint:
 *   ignore: [causation-dangling]                 # rules off everywhere
 *   severity: { schema-less-payload: warning }   # severities that replace the defaults
 *   facts: [OrderSnapshot]                       # type names that count as facts
 *   commands: [PaymentRequest]                   # type names that count as commands
 *   skew: 2m                                     # occurred-after-append tolerances (default 1m, 1h)
 *   late: 6h
 *   topics:
 *     "legacy.*":                                # globs; every glob that matches a topic applies, in file order
 *       ignore: [key-not-aggregate]
 *       severity: { version-drift: warning }
 * ```
 *
 * Per topic: `ignore`, `facts` and `commands` add to the top-level lists; `severity` entries
 * replace earlier ones (top level first, then each matching glob in file order).
 */
import picomatch from 'picomatch'
import { parseDuration } from '../time.ts'
import type { TopicLintSettings } from './linter.ts'
import type { RuleId, Severity } from './rules.ts'

/** Settings of the rules, top level or for a topic glob. */
export interface LintRuleSettings {
  ignore?: RuleId[]
  severity?: Partial<Record<RuleId, Severity>>
  facts?: string[]
  commands?: string[]
}

/** The profile's `lint:` section as written (validated by src/config/schema.ts). */
export interface LintProfile extends LintRuleSettings {
  /** Duration (`1m`, `90s`): occurred later than the timestamp by more than this is clock skew. */
  skew?: string
  /** Duration (`1h`): occurred earlier than the timestamp by more than this is late publication. */
  late?: string
  /** Topic glob → settings. */
  topics?: Record<string, LintRuleSettings>
}

/** A lint profile resolved: settings per topic and tolerances in ms. */
export interface ResolvedLintProfile {
  settings: (topic: string) => TopicLintSettings
  skewMs?: number
  lateMs?: number
}

/**
 * Resolves the `lint:` section. `extraIgnore` (e.g. from a flag) adds rules off everywhere.
 * @throws EvtError usage when `skew` or `late` is not a duration.
 */
export function resolveLintProfile(profile: LintProfile | undefined, where = 'profile'): ResolvedLintProfile {
  const p = profile ?? {}
  const globs = Object.entries(p.topics ?? {}).map(([glob, s]) => ({ match: picomatch(glob, { dot: true }), s }))
  const cache = new Map<string, TopicLintSettings>()
  return {
    skewMs: p.skew === undefined ? undefined : parseDuration(p.skew, `${where}: lint.skew`),
    lateMs: p.late === undefined ? undefined : parseDuration(p.late, `${where}: lint.late`),
    settings: (topic) => {
      let out = cache.get(topic)
      if (out) return out
      const layers = [p, ...globs.filter((g) => g.match(topic)).map((g) => g.s)]
      out = {
        ignore: new Set(layers.flatMap((l) => l.ignore ?? [])),
        severity: Object.assign({}, ...layers.map((l) => l.severity ?? {})) as Partial<Record<RuleId, Severity>>,
        names: { facts: layers.flatMap((l) => l.facts ?? []), commands: layers.flatMap((l) => l.commands ?? []) },
      }
      cache.set(topic, out)
      return out
    },
  }
}
