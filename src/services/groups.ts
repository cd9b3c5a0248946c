/**
 * `evt groups [group]`: consumer groups, their state and members, committed offsets and lag.
 *
 * evt's own progress groups (`_evt-…`, src/kafka/evt-ids.ts) are not the user's consumers: the
 * list leaves them out unless asked for (`includeEvt`), like `evt topics` leaves out internal topics.
 */
import { notFoundError } from '../errors.ts'
import { evtGroup, type EvtGroup } from '../kafka/evt-ids.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { KafkaAdmin } from '../kafka/types.ts'
import { mapWithConcurrency } from '../util/concurrency.ts'
import { closeNames } from '../util/did-you-mean.ts'

/** Committed offset and lag of one partition for one group. */
export interface PartitionLag {
  topic: string
  partition: number
  /** Committed offset (the next record the group will read), a JSON number; null when none is committed. */
  committedOffset: number | null
  /** High watermark of the partition (the offset the next record written will get), a JSON number. */
  highWatermark: number
  /** high watermark − committed offset; with no commit, high − low (everything retained is unread). */
  lag: number
}

/** A member of a group, with the partitions assigned to it (when the protocol is `consumer`). */
export interface GroupMember {
  memberId: string
  clientId: string
  host: string
  assignments: Array<{ topic: string; partitions: number[] }>
}

/** A group as `evt groups` reports it (the `--json` contract). */
export interface GroupSummary {
  groupId: string
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown. */
  state: string
  protocolType: string
  members: number
  /** Topics with committed offsets. */
  topics: string[]
  /** Sum of partition lags. */
  totalLag: number
  /** For evt's own progress groups, what they belong to (a replay or a requeue); null for every other group. */
  evt: EvtGroup | null
}

/** One group in detail (`evt groups <group> --json`). */
export interface GroupDetail extends GroupSummary {
  memberDetails: GroupMember[]
  partitions: PartitionLag[]
}

/**
 * Committed offsets and lag of a group across all topics it committed for.
 * Shared by groups, trace (consumption per hop) and replay (old → new offsets).
 */
export async function groupLag(admin: KafkaAdmin, groupId: string): Promise<PartitionLag[]> {
  const committed = await admin.committedOffsets(groupId)
  const result: PartitionLag[] = []
  for (const { topic, partitions } of committed) {
    const watermarks = await admin.watermarks(topic).catch(() => [])
    for (const p of partitions) {
      const w = watermarks.find((x) => x.partition === p.partition)
      const high = w?.high ?? 0
      const base = p.offset ?? w?.low ?? 0
      result.push({ topic, partition: p.partition, committedOffset: p.offset, highWatermark: high, lag: Math.max(0, high - base) })
    }
  }
  return result
    .filter((p) => p.committedOffset !== null)
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

/**
 * Lists consumer groups with state, members and total lag, sorted by id: the user's groups, and
 * evt's own progress groups only with `includeEvt` (`hiddenEvtGroups` counts those left out).
 * @throws EvtError connect (3).
 */
export async function listGroups(session: KafkaSession, options: { includeEvt?: boolean } = {}): Promise<{ groups: GroupSummary[]; hiddenEvtGroups: number }> {
  const admin = await session.admin()
  const all = await admin.listGroups()
  const groups = options.includeEvt ? all : all.filter((g) => evtGroup(g.groupId) === null)
  const hiddenEvtGroups = all.length - groups.length
  if (groups.length === 0) return { groups: [], hiddenEvtGroups }
  const described = await admin.describeGroups(groups.map((g) => g.groupId))
  const summaries = await mapWithConcurrency(described, 4, async (d) => {
    const lags = await groupLag(admin, d.groupId)
    return {
      groupId: d.groupId,
      state: d.state,
      protocolType: d.protocolType || groups.find((g) => g.groupId === d.groupId)?.protocolType || '',
      members: d.members.length,
      topics: [...new Set(lags.map((l) => l.topic))],
      totalLag: lags.reduce((s, l) => s + l.lag, 0),
      evt: evtGroup(d.groupId),
    }
  })
  return { groups: summaries.sort((a, b) => a.groupId.localeCompare(b.groupId)), hiddenEvtGroups }
}

/**
 * One group in detail.
 * @throws EvtError not-found (4) when the group does not exist (state Dead and nothing committed).
 */
export async function describeGroup(session: KafkaSession, groupId: string): Promise<GroupDetail> {
  const admin = await session.admin()
  const [d] = await admin.describeGroups([groupId])
  const partitions = await groupLag(admin, groupId)
  if (!d || (d.state === 'Dead' && partitions.length === 0)) {
    const all = await admin.listGroups()
    const close = closeNames(groupId, all.map((g) => g.groupId), 5)
    throw notFoundError(`consumer group "${groupId}" does not exist`, close.length ? `did you mean: ${close.join(', ')}` : 'list groups with: evt groups')
  }
  const memberDetails = d.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.host, assignments: m.assignments }))
  return {
    groupId,
    state: d.state,
    protocolType: d.protocolType,
    members: d.members.length,
    topics: [...new Set(partitions.map((l) => l.topic))],
    totalLag: partitions.reduce((s, l) => s + l.lag, 0),
    evt: evtGroup(groupId),
    memberDetails,
    partitions,
  }
}
