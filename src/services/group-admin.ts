/**
 * `evt groups delete` and `evt groups reset`: planned, idempotent changes to consumer groups
 * through the admin seam. A group with active members is refused (exit 6): its consumers would
 * overwrite the new offsets with their next commit, and Kafka refuses to delete it.
 */
import { refusedError, usageError } from '../errors.ts'
import type { Position } from '../kafka/positions.ts'
import type { KafkaSession } from '../kafka/session.ts'

/** One group of `evt groups delete`'s plan. */
export interface GroupDeleteItem {
  groupId: string
  /** `delete`: it exists and will be deleted; `absent`: nothing to delete; `refused`: it has active members. */
  action: 'delete' | 'absent' | 'refused'
  state: string | null
  members: number
  /** Topics it has committed offsets for. */
  topics: string[]
}

/** The plan of `evt groups delete` (`--json`: `{"plan": {"groups": […]}}`). */
export interface GroupDeletePlan {
  groups: GroupDeleteItem[]
}

/**
 * Plans deleting groups: which exist (state, members, topics with committed offsets), which do
 * not, which are refused (active members).
 * @throws EvtError connect (3).
 */
export async function planGroupDelete(session: KafkaSession, groupIds: string[]): Promise<GroupDeletePlan> {
  const admin = await session.admin()
  const ids = [...new Set(groupIds)]
  const described = await admin.describeGroups(ids)
  const items: GroupDeleteItem[] = []
  for (const groupId of ids) {
    const d = described.find((g) => g.groupId === groupId)
    const topics = (await admin.committedOffsets(groupId)).filter((t) => t.partitions.some((p) => p.offset !== null)).map((t) => t.topic).sort()
    const exists = Boolean(d && d.state !== 'Dead') || topics.length > 0
    const members = d?.members.length ?? 0
    items.push({ groupId, action: !exists ? 'absent' : members > 0 ? 'refused' : 'delete', state: exists ? (d?.state ?? null) : null, members, topics })
  }
  return { groups: items }
}

/** @throws EvtError refused (6) when a planned group has active members: then nothing is deleted. */
export function refuseActiveGroups(plan: GroupDeletePlan): void {
  const active = plan.groups.filter((g) => g.action === 'refused')
  if (active.length === 0) return
  throw refusedError(`not deleting ${active.map((g) => `"${g.groupId}" (${g.members} active member${g.members === 1 ? '' : 's'})`).join(', ')}: nothing was deleted`, 'stop the consumers of the group (all their instances) and run it again')
}

/**
 * Deletes the plan's `delete` groups (DeleteGroups). A group gone meanwhile is `absent`.
 * @throws EvtError refused (6) when a group gained members since the plan; connect (3).
 */
export async function deleteGroups(session: KafkaSession, plan: GroupDeletePlan): Promise<Array<{ groupId: string; outcome: 'deleted' | 'absent' }>> {
  const wanted = plan.groups.filter((g) => g.action === 'delete').map((g) => g.groupId)
  if (wanted.length === 0) return []
  const results = await (await session.admin()).deleteGroups(wanted)
  const busy = results.filter((r) => r.outcome === 'not-empty')
  if (busy.length) throw refusedError(`consumer group${busy.length === 1 ? '' : 's'} ${busy.map((r) => `"${r.groupId}"`).join(', ')} became active: not deleted`, 'stop its consumers and run it again')
  return results.map((r) => ({ groupId: r.groupId, outcome: r.outcome === 'deleted' ? 'deleted' : 'absent' }))
}

/** One partition of `evt groups reset`'s plan. */
export interface GroupResetPartition {
  topic: string
  partition: number
  /** The committed offset now; null when the group has none on this partition. */
  current: number | null
  /** The offset it will have. */
  target: number
  /** The partition's high watermark when planned. */
  high: number
  /** Offsets the group will have left to consume: high − target. */
  lagAfter: number
}

/** The plan of `evt groups reset` (`--json`: `{"plan": …}`). */
export interface GroupResetPlan {
  groupId: string
  /** The `--to` value as typed. */
  to: string
  /** The group exists (has a state other than Dead, or committed offsets). */
  exists: boolean
  members: number
  partitions: GroupResetPartition[]
  /** Partitions whose offset changes (0: nothing to do). */
  changes: number
}

/**
 * Plans moving a group's committed offsets to `position` on `topics` (default: every topic it has
 * committed offsets for), per partition: current → target and the lag after. `start`, `end`,
 * `<offset>` (clamped to the partition's retained range), `+N`/`-N` (records) and `@time` (the
 * first offset at or after it; the end when no record is) use tail's position grammar.
 * @throws EvtError usage (2) when no topic is given and the group has committed nothing;
 *   not-found (4) for an unknown topic.
 */
export async function planGroupReset(session: KafkaSession, request: { groupId: string; position: Position; to: string; topics?: string[] }): Promise<GroupResetPlan> {
  const admin = await session.admin()
  const [d] = await admin.describeGroups([request.groupId])
  const committed = await admin.committedOffsets(request.groupId)
  const byPartition = new Map<string, number>()
  for (const t of committed) for (const p of t.partitions) if (p.offset !== null) byPartition.set(`${t.topic}/${p.partition}`, p.offset)
  const committedTopics = [...new Set(committed.filter((t) => t.partitions.some((p) => p.offset !== null)).map((t) => t.topic))].sort()
  const topics = request.topics?.length ? [...new Set(request.topics)] : committedTopics
  if (topics.length === 0) throw usageError(`consumer group "${request.groupId}" has no committed offsets: which topic?`, `name it: evt groups reset ${request.groupId} --to ${request.to} --topic <topic>`)
  const reader = await session.reader('read_committed')
  const plans = await reader.plan(topics, { from: request.position, to: { kind: 'end' } })
  const partitions = plans.map((p) => {
    const current = byPartition.get(`${p.topic}/${p.partition}`) ?? null
    const target = Math.min(Math.max(p.start, p.low), p.high)
    return { topic: p.topic, partition: p.partition, current, target, high: p.high, lagAfter: Math.max(0, p.high - target) }
  })
  const exists = Boolean(d && d.state !== 'Dead') || committedTopics.length > 0
  return { groupId: request.groupId, to: request.to, exists, members: d?.members.length ?? 0, partitions, changes: partitions.filter((p) => p.current !== p.target).length }
}

/** @throws EvtError refused (6) when the group has active members. */
export function refuseActiveReset(plan: GroupResetPlan): void {
  if (plan.members === 0) return
  throw refusedError(`consumer group "${plan.groupId}" has ${plan.members} active member${plan.members === 1 ? '' : 's'}: its offsets cannot be moved while it consumes`, 'stop the service using it (all its instances), then run the reset again')
}

/**
 * Sets the planned offsets, topic by topic (OffsetCommit through the admin), after checking again
 * that the group has no members. Partitions already at their target are left as they are.
 * @throws EvtError refused (6) when the group became active; connect (3).
 */
export async function applyGroupReset(session: KafkaSession, plan: GroupResetPlan): Promise<number> {
  const admin = await session.admin()
  const [d] = await admin.describeGroups([plan.groupId])
  if ((d?.members.length ?? 0) > 0) throw refusedError(`consumer group "${plan.groupId}" became active: offsets not changed`, 'stop its consumers and run the reset again')
  const byTopic = new Map<string, Array<{ partition: number; offset: number }>>()
  for (const p of plan.partitions) {
    if (p.current === p.target) continue
    const list = byTopic.get(p.topic) ?? []
    list.push({ partition: p.partition, offset: p.target })
    byTopic.set(p.topic, list)
  }
  for (const [topic, partitions] of byTopic) await admin.setOffsets(plan.groupId, topic, partitions)
  return plan.changes
}
