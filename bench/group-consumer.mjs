#!/usr/bin/env node
// The third column of the first-record scenario: a plain kafkajs consumer *group* (what most Node
// tools do), which must wait for the broker's group.initial.rebalance.delay.ms before it gets
// partitions. Prints each record as one JSON line {topic, partition, offset, timestamp, value}.
//
//   node bench/group-consumer.mjs <brokers> <topic>
import kafkajs from 'kafkajs'
import { quietKafkajsWarnings } from './data.mjs'

quietKafkajsWarnings()
const [brokers, topic] = process.argv.slice(2)
const kafka = new kafkajs.Kafka({ clientId: 'evt-bench-group', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: `evt-bench-first-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 })
await consumer.connect()
await consumer.subscribe({ topic, fromBeginning: false })
await consumer.run({
  eachMessage: async ({ topic: t, partition, message }) => {
    process.stdout.write(`${JSON.stringify({ topic: t, partition, offset: Number(message.offset), timestamp: Number(message.timestamp), value: message.value?.toString() })}\n`)
  },
})
const stop = () => consumer.disconnect().finally(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
