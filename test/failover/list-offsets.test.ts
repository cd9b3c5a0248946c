/**
 * End offsets after a partition's leader moved while evt held the old metadata: kafkajs sends
 * ListOffsets to the leader its metadata names and does not retry, so a reader that listed offsets
 * before a leader change got "This server is not the leader for that topic-partition" (a broker
 * restarted, a reassignment, a topic just created). The transport refreshes the metadata and asks
 * again: the same reader answers with the right offsets, without a new session.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { closeTestSessions, testSession } from '../support/kafka.ts'
import { BROKERS, createRf3Topic, idempotentProducer, partitionLeader, uniqueName, waitUntil, withAdmin } from './support.ts'

afterAll(async () => {
  await closeTestSessions()
})

describe('ListOffsets after a leader change', () => {
  it('a reader that cached the old leader lists the end offsets again, right', async () => {
    const topic = uniqueName('lo-moved')
    await createRf3Topic(topic, 1)
    const producer = await idempotentProducer()
    try {
      await producer.send({ topic, messages: Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `v${i}` })) })
    } finally {
      await producer.disconnect()
    }
    const reader = await testSession({ brokers: BROKERS }).reader('read_uncommitted')
    const partitions = await reader.useTopics([topic])
    expect((await reader.bounds(partitions)).get(`${topic}/0`)).toMatchObject({ low: 0, high: 7 })

    // move the partition off its leader: the old leader no longer hosts it, the reader's metadata still names it
    const old = await partitionLeader(topic, 0)
    const others = [1, 2, 3].filter((n) => n !== old)
    await withAdmin((admin) => admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: others }] }] }))
    await waitUntil('the reassignment done and the old leader out of the replicas', async () => {
      const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }))
      const p = meta.topics[0]!.partitions[0]!
      const pending = await withAdmin((admin) => admin.listPartitionReassignments({ topics: [{ topic, partitions: [0] }] }))
      return p.leader !== old && !p.replicas.includes(old) && pending.topics.length === 0
    }, { timeoutMs: 60_000, everyMs: 250 })

    expect((await reader.bounds(partitions)).get(`${topic}/0`)).toMatchObject({ low: 0, high: 7 })
  })
})
