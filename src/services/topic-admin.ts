/**
 * `evt topics create` and `evt topics delete`: planned, idempotent topic changes through the
 * admin seam (KafkaAdmin). Plans are computed first and printed by the command; nothing is
 * written until `createTopic` / `deleteTopics` run.
 *
 * Guards (src/kafka/internal-topics.ts): Kafka's internal topics (`__*`) are never created or
 * deleted; the schema registry's and Kafka Connect's topics and the profile's `protectedTopics`
 * are never deleted.
 */
import { refusedError, usageError } from '../errors.ts'
import { internalTopicKind, isProtectedTopic } from '../kafka/internal-topics.ts'
import type { KafkaSession } from '../kafka/session.ts'

/** Kafka's rule for topic names (`Topic.validate`): 1–249 of `[a-zA-Z0-9._-]`, not `.` or `..`. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

/**
 * @throws EvtError usage (2) when `name` is not a legal Kafka topic name.
 */
export function assertTopicName(name: string): void {
  if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') {
    throw usageError(`"${name}" is not a valid topic name`, 'topic names are 1 to 249 characters of a-z, A-Z, 0-9, ".", "_" and "-"')
  }
}

/**
 * Parses `-c key=value` entries into a config map (later entries win).
 * @throws EvtError usage (2) for an entry without `=` or with an empty key.
 */
export function parseTopicConfig(entries: readonly string[] = []): Record<string, string> {
  const config: Record<string, string> = {}
  for (const entry of entries) {
    const at = entry.indexOf('=')
    if (at <= 0) throw usageError(`-c ${entry}: expected key=value`, 'e.g. -c retention.ms=86400000 -c cleanup.policy=compact')
    config[entry.slice(0, at).trim()] = entry.slice(at + 1)
  }
  return config
}

/** What `evt topics create` asked for; undefined partitions / replication: the broker's defaults (num.partitions, default.replication.factor). */
export interface TopicCreateRequest {
  topic: string
  partitions?: number
  replicationFactor?: number
  config: Record<string, string>
}

/** One difference between a requested topic and the existing one. */
export interface TopicDifference {
  setting: string
  requested: string
  existing: string | null
}

/** The plan of `evt topics create` (the `--json` contract: `{"plan": …}`). */
export interface TopicCreatePlan {
  topic: string
  partitions: number | null
  replicationFactor: number | null
  config: Record<string, string>
  /** `create`: the topic does not exist; `exists`: it does, with every requested setting; `differs`: it does, otherwise. */
  action: 'create' | 'exists' | 'differs'
  /** For `differs`: what is not as requested. */
  differences: TopicDifference[]
}

/**
 * Plans a topic creation: checks the name and the guards, and compares with the topic when it
 * exists (partition count, replication factor of the first partition, each requested config).
 * @throws EvtError usage (2) for a bad name or counts; refused (6) for a `__*` name.
 */
export async function planTopicCreate(session: KafkaSession, request: TopicCreateRequest): Promise<TopicCreatePlan> {
  assertTopicName(request.topic)
  if (internalTopicKind(request.topic) === 'kafka') {
    throw refusedError(`"${request.topic}" is a name for Kafka's internal topics (names starting with __): evt does not create them`, 'choose a name that does not start with __')
  }
  const admin = await session.admin()
  const base = { topic: request.topic, partitions: request.partitions ?? null, replicationFactor: request.replicationFactor ?? null, config: request.config }
  const names = await admin.listTopics()
  if (!names.includes(request.topic)) return { ...base, action: 'create', differences: [] }
  const [meta] = await admin.topicMetadata([request.topic])
  const differences: TopicDifference[] = []
  const partitions = meta?.partitions.length ?? 0
  const replication = meta?.partitions[0]?.replicas.length ?? 0
  if (request.partitions !== undefined && request.partitions !== partitions) differences.push({ setting: 'partitions', requested: String(request.partitions), existing: String(partitions) })
  if (request.replicationFactor !== undefined && request.replicationFactor !== replication) differences.push({ setting: 'replication', requested: String(request.replicationFactor), existing: String(replication) })
  if (Object.keys(request.config).length > 0) {
    const existing = await admin.topicConfig(request.topic)
    for (const [key, value] of Object.entries(request.config)) {
      if (existing[key] !== value) differences.push({ setting: key, requested: value, existing: existing[key] ?? null })
    }
  }
  return { ...base, partitions: request.partitions ?? partitions, replicationFactor: request.replicationFactor ?? replication, action: differences.length ? 'differs' : 'exists', differences }
}

/**
 * Refuses (exit 6) a plan whose topic exists with other settings; evt does not change an
 * existing topic's partitions, replication or configuration.
 */
export function refuseDifferentTopic(plan: TopicCreatePlan): void {
  if (plan.action !== 'differs') return
  const what = plan.differences.map((d) => `${d.setting} ${d.existing ?? '(unset)'} (asked ${d.requested})`).join(', ')
  throw refusedError(`topic "${plan.topic}" exists with other settings: ${what}`, `use the topic as it is, choose another name, or delete it first: evt topics delete ${plan.topic}`)
}

/**
 * Creates the planned topic and waits for its partition leaders.
 * @throws EvtError from the broker: usage (2) for an invalid partition count, replication factor
 *   or config; connect (3); refused (6) when not authorized.
 */
export async function createTopic(session: KafkaSession, plan: TopicCreatePlan): Promise<void> {
  const admin = await session.admin()
  await admin.createTopics([{ topic: plan.topic, partitions: plan.partitions ?? -1, replicationFactor: plan.replicationFactor ?? -1, config: plan.config }])
}

/** One topic of `evt topics delete`'s plan. */
export interface TopicDeleteItem {
  topic: string
  /** `delete`: it exists and will be deleted; `absent`: nothing to delete; `refused`: guarded (see `reason`). */
  action: 'delete' | 'absent' | 'refused'
  partitions: number | null
  /** Retained offsets (high − low watermark, summed): an upper bound on the records that go with it. */
  offsets: number | null
  reason?: string
}

/** The plan of `evt topics delete` (`--json`: `{"plan": {"topics": […]}}`). */
export interface TopicDeletePlan {
  topics: TopicDeleteItem[]
}

/**
 * Plans deleting topics: which exist (with partitions and retained offsets), which do not, and
 * which are refused: Kafka's internal topics, the schema registry's and Kafka Connect's topics, and
 * the profile's `protectedTopics`.
 * @throws EvtError usage (2) for a bad name.
 */
export async function planTopicDelete(session: KafkaSession, topics: string[]): Promise<TopicDeletePlan> {
  const admin = await session.admin()
  const names = new Set(await admin.listTopics())
  const items: TopicDeleteItem[] = []
  for (const topic of [...new Set(topics)]) {
    assertTopicName(topic)
    const kind = internalTopicKind(topic)
    const reason = kind === 'kafka' ? 'one of Kafka\'s internal topics'
      : kind === 'platform' ? 'a schema registry or Kafka Connect internal topic'
      : isProtectedTopic(topic, session.connection.protectedTopics) ? 'protected by the profile\'s protectedTopics' : undefined
    if (!names.has(topic)) { items.push({ topic, action: reason ? 'refused' : 'absent', partitions: null, offsets: null, reason }); continue }
    const marks = await admin.watermarks(topic)
    items.push({ topic, action: reason ? 'refused' : 'delete', partitions: marks.length, offsets: marks.reduce((s, m) => s + (m.high - m.low), 0), reason })
  }
  return { topics: items }
}

/** @throws EvtError refused (6) when the plan names a guarded topic: then nothing is deleted. */
export function refuseGuardedTopics(plan: TopicDeletePlan): void {
  const refused = plan.topics.filter((t) => t.action === 'refused')
  if (refused.length === 0) return
  throw refusedError(`not deleting ${refused.map((t) => `"${t.topic}" (${t.reason})`).join(', ')}: nothing was deleted`, 'leave guarded topics out of the command')
}

/**
 * Deletes the plan's `delete` topics. A topic deleted meanwhile by someone else is reported `absent`.
 * @throws EvtError connect (3), refused (6) when the broker refuses.
 */
export async function deleteTopics(session: KafkaSession, plan: TopicDeletePlan): Promise<Array<{ topic: string; outcome: 'deleted' | 'absent' }>> {
  const wanted = plan.topics.filter((t) => t.action === 'delete').map((t) => t.topic)
  if (wanted.length === 0) return []
  const admin = await session.admin()
  return (await admin.deleteTopics(wanted)).map((r) => ({ topic: r.topic, outcome: r.outcome === 'deleted' ? 'deleted' : 'absent' }))
}

