/**
 * Plain renderers for the admin listings (topics, groups).
 */
import type { GroupDetail, GroupSummary } from '../services/groups.ts'
import type { TopicSummary } from '../services/topics.ts'
import { renderTable } from './table.ts'

/** `evt topics` as a table; RECORDS is `≤ <offsets>`: retained offsets bound the records from above (markers and compacted-away offsets are not records). */
export function renderTopics(topics: TopicSummary[]): string {
  if (topics.length === 0) return 'no topics'
  return renderTable(['TOPIC', 'PARTITIONS', 'REPLICAS', 'RECORDS'], topics.map((t) => [t.name, t.partitions, t.replicationFactor, `≤ ${t.offsets}`]), { alignRight: [1, 2, 3] })
}

/** `evt groups` as a table. */
export function renderGroups(groups: GroupSummary[]): string {
  if (groups.length === 0) return 'no consumer groups'
  return renderTable(['GROUP', 'STATE', 'MEMBERS', 'TOPICS', 'LAG'], groups.map((g) => [g.groupId, g.state, g.members, g.topics.join(',') || '-', g.totalLag]), { alignRight: [2, 4] })
}

/** `evt groups <group>`: a header, members, then per-partition offsets and lag. */
export function renderGroupDetail(g: GroupDetail): string {
  const parts = [`group ${g.groupId}  state ${g.state}  members ${g.members}  lag ${g.totalLag}`]
  if (g.memberDetails.length) {
    parts.push('', renderTable(['MEMBER', 'CLIENT', 'HOST', 'ASSIGNED'], g.memberDetails.map((m) => [m.memberId, m.clientId, m.host, m.assignments.map((a) => `${a.topic}[${a.partitions.join(',')}]`).join(' ') || '-'])))
  }
  parts.push('', g.partitions.length ? renderTable(['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH WATERMARK', 'LAG'], g.partitions.map((p) => [p.topic, p.partition, p.committedOffset ?? '-', p.highWatermark, p.lag]), { alignRight: [1, 2, 3, 4] }) : 'no committed offsets')
  return parts.join('\n')
}
