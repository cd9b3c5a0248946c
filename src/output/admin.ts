/**
 * Plain renderers for the admin listings (topics, groups).
 */
import type { EvtGroup } from '../kafka/evt-ids.ts'
import type { GroupDetail, GroupSummary } from '../services/groups.ts'
import type { TopicSummary } from '../services/topics.ts'
import { renderTable } from './table.ts'

/** `evt topics` as a table; RECORDS is `≤ <offsets>`: retained offsets bound the records from above (markers and compacted-away offsets are not records). */
export function renderTopics(topics: TopicSummary[]): string {
  if (topics.length === 0) return 'no topics'
  return renderTable(['TOPIC', 'PARTITIONS', 'REPLICAS', 'RECORDS'], topics.map((t) => [t.name, t.partitions, t.replicationFactor, `≤ ${t.offsets}`]), { alignRight: [1, 2, 3] })
}

/** What one of evt's own groups is for, in words. */
export function evtGroupPurpose(evt: EvtGroup): string {
  if (evt.kind === 'replay') return `replay ${evt.replayId}`
  if (evt.kind === 'requeue') return `requeue from ${evt.dlqTopic}`
  return 'evt'
}

/**
 * `evt groups` as a table: the user's groups; evt's own progress groups (when listed, `--all`)
 * in a second table below, with what they belong to instead of a lag.
 */
export function renderGroups(groups: GroupSummary[]): string {
  const users = groups.filter((g) => !g.evt)
  const own = groups.filter((g) => g.evt)
  const parts = [users.length === 0 ? 'no consumer groups' : renderTable(['GROUP', 'STATE', 'MEMBERS', 'TOPICS', 'LAG'], users.map((g) => [g.groupId, g.state, g.members, g.topics.join(',') || '-', g.totalLag]), { alignRight: [2, 4] })]
  if (own.length) parts.push('', 'evt\'s own progress groups (see evt replay status; evt replay clean removes finished ones):', renderTable(['GROUP', 'FOR', 'STATE', 'MEMBERS', 'TOPICS'], own.map((g) => [g.groupId, evtGroupPurpose(g.evt!), g.state, g.members, g.topics.join(',') || '-']), { alignRight: [3] }))
  return parts.join('\n')
}

/** `evt groups <group>`: a header, members, then per-partition offsets and lag. */
export function renderGroupDetail(g: GroupDetail): string {
  const parts = [`group ${g.groupId}  state ${g.state}  members ${g.members}  lag ${g.totalLag}${g.evt ? `  (evt's progress group of ${evtGroupPurpose(g.evt)})` : ''}`]
  if (g.memberDetails.length) {
    parts.push('', renderTable(['MEMBER', 'CLIENT', 'HOST', 'ASSIGNED'], g.memberDetails.map((m) => [m.memberId, m.clientId, m.host, m.assignments.map((a) => `${a.topic}[${a.partitions.join(',')}]`).join(' ') || '-'])))
  }
  parts.push('', g.partitions.length ? renderTable(['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH WATERMARK', 'LAG'], g.partitions.map((p) => [p.topic, p.partition, p.committedOffset ?? '-', p.highWatermark, p.lag]), { alignRight: [1, 2, 3, 4] }) : 'no committed offsets')
  return parts.join('\n')
}
