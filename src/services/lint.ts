/**
 * `evt lint`: checks a sample of real traffic against event-design rules (src/lint/rules.ts),
 * reading partitions without a consumer group, and returns findings with the records that prove
 * them. Records stream through the engine (src/lint/linter.ts); only its per-rule state is kept.
 */
import { RegistryDecoder } from '../codec/registry.ts'
import { isDlqTopic } from '../dlq/detect.ts'
import { createExtractor, createTypeFallback, type EnvelopeConfig } from '../envelope/index.ts'
import { EVT_PREFIX } from '../kafka/evt-ids.ts'
import { internalTopicKind } from '../kafka/internal-topics.ts'
import type { PartitionPlan } from '../kafka/reader.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { Linter, type LintFinding } from '../lint/linter.ts'
import { resolveLintProfile, type LintProfile } from '../lint/settings.ts'
import { LoopTurns } from '../util/event-loop.ts'
import { selectTopics } from './trace.ts'

/** `-n` when neither `-n` nor `--since` is given: the last 10 000 records of each partition. */
export const DEFAULT_LINT_RECORDS = 10_000

/** What to lint. */
export interface LintOptions {
  /** Topic names or globs; default: every topic but Kafka's, the platform's (`_schemas`, Connect's) and evt's own (`_evt-*`, requeue ledgers). */
  topics?: string[]
  /** Read at most the last this many records of each partition (default {@link DEFAULT_LINT_RECORDS} unless `since` is set). */
  lastPerPartition?: number
  /** Read from this time on, epoch ms. With `lastPerPartition` too, the later of the two starts wins. */
  since?: number
  /** Evidence records per finding (default 3). */
  evidence?: number
  /** Rule settings (default: the profile's `lint:` section). */
  profile?: LintProfile
  /** Envelope conventions (default: the profile's `envelope:`). */
  envelope?: Partial<EnvelopeConfig>
  signal?: AbortSignal
  onWarning?: (message: string) => void
  /** Fail (exit 3) when the schema registry cannot be reached, instead of linting raw bytes. */
  strict?: boolean
}

/** What a lint found (the `--json` contract, docs/schemas/lint.schema.json). */
export interface LintResult {
  topics: string[]
  /** The sample: `since` (epoch ms) and `lastPerPartition`, null when not limited by it. */
  window: { since: number | null; lastPerPartition: number | null }
  /** Records read, and their bytes. */
  scanned: number
  bytes: number
  findings: LintFinding[]
  /** True when an id map reached its cap: some duplicates, splits or causations may be unseen. */
  truncated: boolean
  elapsedMs: number
}

/** The default topics: not Kafka's (`__*`), not the platform's, not evt's own. */
export function defaultLintTopics(all: string[]): string[] {
  return all.filter((t) => internalTopicKind(t) === undefined && !t.startsWith(EVT_PREFIX)).sort()
}

/** Per partition, the later start of two plans of the same partitions. */
function laterStarts(a: PartitionPlan[], b: PartitionPlan[]): PartitionPlan[] {
  const other = new Map(b.map((p) => [`${p.topic}/${p.partition}`, p.start]))
  return a.map((p) => ({ ...p, start: Math.max(p.start, other.get(`${p.topic}/${p.partition}`) ?? p.start) }))
}

/**
 * Lints a sample of the chosen topics (bounded: up to the end offsets taken at start).
 * @throws EvtError connect (3), not-found (4: a named topic does not exist, a glob matches none), usage (2: a bad profile duration).
 */
export async function lint(session: KafkaSession, options: LintOptions = {}): Promise<LintResult> {
  const started = Date.now()
  const { connection } = session
  const reader = await session.reader('read_committed')
  const envelope = options.envelope ?? connection.envelope
  const extract = createExtractor(envelope)
  const typeOf = createTypeFallback({ typeHeaders: envelope?.typeHeaders, typePaths: [] })
  const profile = resolveLintProfile(options.profile ?? connection.lint, connection.profile ? `profile ${connection.profile}` : 'profile')
  const decoder = new RegistryDecoder(connection.registry, { onWarning: options.onWarning, strict: options.strict, timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const all = await reader.topicNames()
  const topics = options.topics?.length ? selectTopics(all, options.topics) : defaultLintTopics(all)
  const last = options.lastPerPartition ?? (options.since === undefined ? DEFAULT_LINT_RECORDS : undefined)
  const result: LintResult = { topics, window: { since: options.since ?? null, lastPerPartition: last ?? null }, scanned: 0, bytes: 0, findings: [], truncated: false, elapsedMs: 0 }
  const linter = new Linter({ evidence: options.evidence, settings: profile.settings, isDlq: (t) => isDlqTopic(t), skewMs: profile.skewMs, lateMs: profile.lateMs })
  if (topics.length) {
    const end = { kind: 'end' as const }
    let plans: PartitionPlan[] | undefined
    if (last !== undefined) plans = await reader.plan(topics, { from: { kind: 'before-end', count: last }, to: end })
    if (options.since !== undefined) {
      const bySince = await reader.plan(topics, { from: { kind: 'time', timestamp: options.since }, to: end })
      plans = plans ? laterStarts(plans, bySince) : bySince
    }
    const turns = new LoopTurns()
    for await (const chunk of reader.read(plans ?? [], { signal: options.signal, onWarning: options.onWarning })) {
      result.scanned += chunk.records.length
      result.bytes += chunk.bytes
      await decoder.prepare(chunk.records)
      for (const raw of chunk.records) {
        if (turns.due()) {
          await turns.yield()
          if (options.signal?.aborted) break
        }
        const record = decoder.decodeRecord(raw)
        const meta = extract(record)
        linter.add(record, meta, meta.eventType === undefined ? typeOf(record)?.type : undefined)
      }
      if (options.signal?.aborted) break
    }
  }
  result.findings = linter.finish()
  result.truncated = linter.truncated
  result.elapsedMs = Date.now() - started
  return result
}
