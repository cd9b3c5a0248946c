/**
 * evt topics create|delete and evt groups delete|reset as a user runs them (bin/run.js against the
 * local broker): plan first, --dry-run, --yes without a terminal (else exit 6), idempotent reruns,
 * guarded topics and groups with active members refused.
 */
import { describe, expect, it } from 'vitest'
import { createTopic, kafka, produceFixture, runEvt, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

async function topicExists(topic: string): Promise<boolean> {
  return withTestAdmin(async (admin) => (await admin.listTopics()).includes(topic))
}

/** Committed offsets of a group on a topic, partition → offset (-1: none). */
async function committed(group: string, topic: string): Promise<Record<number, number>> {
  return withTestAdmin(async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    return Object.fromEntries((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
  })
}

/** Runs `fn` while a kafkajs consumer of `group` is an active member (subscribed to `topic`). */
async function withActiveMember(group: string, topic: string, fn: () => Promise<void>): Promise<void> {
  const consumer = kafka().consumer({ groupId: group })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let joined!: () => void
  const isJoined = new Promise<void>((r) => (joined = r))
  consumer.on(consumer.events.GROUP_JOIN, () => joined())
  void consumer.run({ eachMessage: async () => {} })
  await isJoined
  try {
    await fn()
  } finally {
    await consumer.disconnect()
  }
}

describe('evt topics create', () => {
  it('plans, needs --yes without a terminal, creates, and is idempotent', async () => {
    const topic = uniqueTopic('e2e-create')
    const dry = await runEvt(['topics', 'create', topic, '-p', '3', '-c', 'retention.ms=86400000', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toBe(`plan: create topic ${topic}: 3 partitions, replication: broker default (default.replication.factor), retention.ms=86400000\n`)
    expect(await topicExists(topic)).toBe(false)

    const noYes = await runEvt(['topics', 'create', topic, '-p', '3', '-c', 'retention.ms=86400000'])
    expect(noYes.code).toBe(6)
    expect(noYes.stdout).toContain('plan: create topic')
    expect(noYes.stderr).toBe('evt: this writes to Kafka and there is no terminal to confirm on\n  hint: review the plan (--dry-run), then pass --yes\n')
    expect(await topicExists(topic)).toBe(false)

    const created = await runEvt(['topics', 'create', topic, '-p', '3', '-c', 'retention.ms=86400000', '--yes'])
    expect(created.code).toBe(0)
    expect(created.stdout.split('\n').at(-2)).toBe(`created topic ${topic}`)
    const listed = JSON.parse((await runEvt(['topics', '--json'])).stdout) as Array<{ name: string; partitions: number; replicationFactor: number }>
    expect(listed.find((t) => t.name === topic)).toMatchObject({ partitions: 3, replicationFactor: 1 })
    const config = await withTestAdmin((admin) => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic }] }))
    expect(config.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue).toBe('86400000')

    const again = await runEvt(['topics', 'create', topic, '-p', '3', '-c', 'retention.ms=86400000'])
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(`topic ${topic} exists with these settings (3 partitions, replication 1, retention.ms=86400000): nothing to do\n`)

    const differs = await runEvt(['topics', 'create', topic, '-p', '4', '--yes', '--json'])
    expect(differs.code).toBe(6)
    expect(JSON.parse(differs.stdout.split('\n')[0]!)).toEqual({ plan: { topic, partitions: 4, replicationFactor: 1, config: {}, action: 'differs', differences: [{ setting: 'partitions', requested: '4', existing: '3' }] } })
    expect(differs.stderr).toContain(`evt: topic "${topic}" exists with other settings: partitions 3 (asked 4)`)
  })

  it('refuses internal names (6), bad names and configs (2), a replication the cluster cannot hold (2)', async () => {
    const internal = await runEvt(['topics', 'create', '__evt_test', '--yes'])
    expect(internal.code).toBe(6)
    expect(internal.stderr.split('\n')[0]).toBe('evt: "__evt_test" is a name for Kafka\'s internal topics (names starting with __): evt does not create them')
    const bad = await runEvt(['topics', 'create', 'a b', '--yes'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')[0]).toBe('evt: "a b" is not a valid topic name')
    const topic = uniqueTopic('e2e-bad')
    const badConfig = await runEvt(['topics', 'create', topic, '-c', 'retention.mss=5', '--yes'])
    expect(badConfig.code).toBe(2)
    expect(badConfig.stderr.split('\n')[0]).toBe(`evt: cannot create topic "${topic}": a -c entry is not a valid topic configuration (unknown name or bad value) (INVALID_CONFIG)`)
    const replicas = await runEvt(['topics', 'create', topic, '-r', '3', '--yes'])
    expect(replicas.code).toBe(2)
    expect(replicas.stderr.split('\n')[0]).toBe(`evt: cannot create topic "${topic}": the replication factor is invalid (more than the brokers available?) (INVALID_REPLICATION_FACTOR)`)
    expect(await topicExists(topic)).toBe(false)
  })
})

describe('evt topics delete', () => {
  it('plans, deletes with --yes, says a missing topic has nothing to delete, refuses guarded topics', async () => {
    const a = await createTopic(uniqueTopic('e2e-del'), 2)
    const b = uniqueTopic('e2e-absent')
    await produceFixture(a, [{ partition: 0, value: 'x' }, { partition: 1, value: 'y' }])
    const noYes = await runEvt(['topics', 'delete', a, b])
    expect(noYes.code).toBe(6)
    expect(await topicExists(a)).toBe(true)

    const dry = await runEvt(['topics', 'delete', a, b, '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    expect(JSON.parse(dry.stdout)).toEqual({ plan: { topics: [{ topic: a, action: 'delete', partitions: 2, offsets: 2 }, { topic: b, action: 'absent', partitions: null, offsets: null }] } })

    const done = await runEvt(['topics', 'delete', a, b, '--yes'])
    expect(done.code).toBe(0)
    expect(done.stdout.split('\n').at(-2)).toBe(`deleted topic ${a}`)
    expect(await topicExists(a)).toBe(false)

    const again = await runEvt(['topics', 'delete', a, '--yes'])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`${a}  does not exist: nothing to do`)

    const c = await createTopic(uniqueTopic('e2e-keep'), 1)
    const guarded = await runEvt(['topics', 'delete', c, '__consumer_offsets', '_schemas', '--yes'])
    expect(guarded.code).toBe(6)
    expect(guarded.stderr.split('\n')[0]).toBe('evt: not deleting "__consumer_offsets" (one of Kafka\'s internal topics), "_schemas" (a schema registry or Kafka Connect internal topic): nothing was deleted')
    expect(await topicExists(c)).toBe(true)
  })
})

describe('evt groups reset and delete', () => {
  it('reset moves a group to start, end, an offset and a time; a rerun changes nothing', async () => {
    const topic = await createTopic(uniqueTopic('e2e-reset'), 2)
    await produceFixture(topic, [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }, { partition: 0, value: 'c' }, { partition: 1, value: 'd' }])
    const group = uniqueTopic('e2e-reset-g')

    const noTopic = await runEvt(['groups', 'reset', group, '--to', 'start', '--yes'])
    expect(noTopic.code).toBe(2)
    expect(noTopic.stderr).toBe(`evt: consumer group "${group}" has no committed offsets: which topic?\n  hint: name it: evt groups reset ${group} --to start --topic <topic>\n`)

    const noYes = await runEvt(['groups', 'reset', group, '--to', 'end', '--topic', topic])
    expect(noYes.code).toBe(6)
    const created = await runEvt(['groups', 'reset', group, '--to', 'end', '--topic', topic, '--yes'])
    expect(created.code).toBe(0)
    expect(created.stdout.split('\n').at(-2)).toBe(`group ${group} moved to end on 2 partitions`)
    expect(await committed(group, topic)).toEqual({ 0: 3, 1: 1 })

    const dry = await runEvt(['groups', 'reset', group, '--to', '1', '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    expect(JSON.parse(dry.stdout)).toEqual({ plan: { groupId: group, to: '1', exists: true, members: 0, changes: 1, partitions: [
      { topic, partition: 0, current: 3, target: 1, high: 3, lagAfter: 2 },
      { topic, partition: 1, current: 1, target: 1, high: 1, lagAfter: 0 },
    ] } })
    expect(await committed(group, topic)).toEqual({ 0: 3, 1: 1 })

    expect((await runEvt(['groups', 'reset', group, '--to', 'start', '--yes'])).code).toBe(0)
    expect(await committed(group, topic)).toEqual({ 0: 0, 1: 0 })
    const again = await runEvt(['groups', 'reset', group, '--to', 'start', '--yes'])
    expect(again.code).toBe(0)
    expect(again.stderr).toBe(`group ${group} is already at start: nothing to do\n`)

    const later = await runEvt(['groups', 'reset', group, '--to', `@${Date.now() + 3_600_000}`, '--yes'])
    expect(later.code).toBe(0)
    expect(await committed(group, topic)).toEqual({ 0: 3, 1: 1 })
  })

  it('reset and delete refuse a group with an active member (6); delete removes an idle group, then has nothing to do', async () => {
    const topic = await createTopic(uniqueTopic('e2e-gdel'), 1)
    await produceFixture(topic, [{ partition: 0, value: 'a' }])
    const group = uniqueTopic('e2e-gdel-g')
    await withActiveMember(group, topic, async () => {
      const reset = await runEvt(['groups', 'reset', group, '--to', 'start', '--yes'])
      expect(reset.code).toBe(6)
      expect(reset.stderr.split('\n')[0]).toBe(`evt: consumer group "${group}" has 1 active member: its offsets cannot be moved while it consumes`)
      const del = await runEvt(['groups', 'delete', group, '--yes'])
      expect(del.code).toBe(6)
      expect(del.stderr.split('\n')[0]).toBe(`evt: not deleting "${group}" (1 active member): nothing was deleted`)
    })
    expect((await runEvt(['groups', 'reset', group, '--to', 'start', '--topic', topic, '--yes'])).code).toBe(0)
    const dry = await runEvt(['groups', 'delete', group, '--dry-run', '--json'])
    expect(JSON.parse(dry.stdout)).toEqual({ plan: { groups: [{ groupId: group, action: 'delete', state: 'Empty', members: 0, topics: [topic] }] } })
    const del = await runEvt(['groups', 'delete', group, '--yes'])
    expect(del.code).toBe(0)
    expect(del.stdout.split('\n').at(-2)).toBe(`deleted group ${group}`)
    expect((await runEvt(['groups', group])).code).toBe(4)
    const again = await runEvt(['groups', 'delete', group, '--yes', '--json'])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ plan: { groups: [{ groupId: group, action: 'absent', state: null, members: 0, topics: [] }] } })
  })
})
