/**
 * Plain renderers for the admin listings (topics, groups).
 */
import type { EvtGroup } from '../kafka/evt-ids.ts'
import type { GroupDetail, GroupSummary } from '../services/groups.ts'
import type { TopicSummary } from '../services/topics.ts'
import type { TopicCreatePlan, TopicDeletePlan } from '../services/topic-admin.ts'
import type { GroupDeletePlan, GroupResetPlan } from '../services/group-admin.ts'
import { renderTable } from './table.ts'
import { plural } from './plural.ts'

export { plural }

/** `evt topics` as a table; RECORDS is `≤ <offsets>`: retained offsets bound the records from above (markers and compacted-away offsets are not records). */
export function renderTopics(topics: TopicSummary[]): string {
  if (topics.length === 0) return 'no topics'
  return renderTable(['TOPIC', 'PARTITIONS', 'REPLICAS', 'RECORDS'], topics.map((t) => [t.name, t.partitions, t.replicationFactor, `≤ ${t.offsets}`]), { alignRight: [1, 2, 3] })
}

/** What one of evt's own groups is for, in words. */
export function evtGroupPurpose(evt: EvtGroup): string {
  if (evt.kind === 'replay') return `replay ${evt.replayId}`
  if (evt.kind === 'requeue') return `requeue from ${evt.dlqTopic}`
  if (evt.kind === 'index') return `trace index ${evt.name}`
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

/** `evt topics create`'s plan in words: what will be created, or that the topic is already there. */
export function renderTopicCreatePlan(plan: TopicCreatePlan): string {
  const settings = [
    plan.partitions === null ? 'partitions: broker default (num.partitions)' : `${plural(plan.partitions, 'partition')}`,
    plan.replicationFactor === null ? 'replication: broker default (default.replication.factor)' : `replication ${plan.replicationFactor}`,
    ...Object.entries(plan.config).map(([k, v]) => `${k}=${v}`),
  ].join(', ')
  if (plan.action === 'create') return `plan: create topic ${plan.topic}: ${settings}`
  if (plan.action === 'exists') return `topic ${plan.topic} exists with these settings (${settings}): nothing to do`
  return `topic ${plan.topic} exists with other settings:\n${renderTable(['SETTING', 'EXISTING', 'REQUESTED'], plan.differences.map((d) => [d.setting, d.existing ?? '(unset)', d.requested]))}`
}

/** `evt topics delete`'s plan: one row per topic named. */
export function renderTopicDeletePlan(plan: TopicDeletePlan): string {
  const n = plan.topics.filter((t) => t.action === 'delete').length
  const rows = plan.topics.map((t) => [t.topic, t.action === 'delete' ? 'delete' : t.action === 'absent' ? 'does not exist: nothing to do' : `refused: ${t.reason}`, t.partitions ?? '-', t.offsets === null ? '-' : `≤ ${t.offsets}`])
  return `plan: delete ${plural(n, 'topic')} and every record in ${n === 1 ? 'it' : 'them'}\n${renderTable(['TOPIC', 'ACTION', 'PARTITIONS', 'RECORDS'], rows, { alignRight: [2, 3] })}`
}

/** The outcome of topics delete, one line per topic. */
export function renderTopicDeleteResults(results: Array<{ topic: string; outcome: 'deleted' | 'absent' }>): string {
  return results.map((r) => (r.outcome === 'deleted' ? `deleted topic ${r.topic}` : `topic ${r.topic} was already gone`)).join('\n')
}

/** The outcome of groups delete, one line per group. */
export function renderGroupDeleteResults(results: Array<{ groupId: string; outcome: 'deleted' | 'absent' }>): string {
  return results.map((r) => (r.outcome === 'deleted' ? `deleted group ${r.groupId}` : `group ${r.groupId} was already gone`)).join('\n')
}

/** `evt groups delete`'s plan: one row per group named. */
export function renderGroupDeletePlan(plan: GroupDeletePlan): string {
  const n = plan.groups.filter((g) => g.action === 'delete').length
  const rows = plan.groups.map((g) => [g.groupId, g.action === 'delete' ? 'delete' : g.action === 'absent' ? 'does not exist: nothing to do' : `refused: ${plural(g.members, 'active member')}`, g.state ?? '-', g.topics.join(',') || '-'])
  return `plan: delete ${plural(n, 'consumer group')} and ${n === 1 ? 'its' : 'their'} committed offsets\n${renderTable(['GROUP', 'ACTION', 'STATE', 'TOPICS'], rows)}`
}

/** `evt groups reset`'s plan: per partition the committed offset now, the new one, and the lag after. */
export function renderGroupResetPlan(plan: GroupResetPlan): string {
  const head = `plan: ${plan.exists ? 'move' : 'create'} consumer group ${plan.groupId} ${plan.exists ? 'to' : 'at'} ${plan.to}: ${plural(plan.changes, 'partition')} change${plan.changes === 1 ? 's' : ''}`
  const rows = plan.partitions.map((p) => [p.topic, p.partition, p.current ?? '-', p.target, p.current === p.target ? 'unchanged' : '', p.lagAfter])
  return `${head}\n${renderTable(['TOPIC', 'PARTITION', 'COMMITTED', 'NEW', '', 'LAG AFTER'], rows, { alignRight: [1, 2, 3, 5] })}`
}
