/**
 * evt's replacements of kafkajs producer internals (src/kafka/kafkajs/record-encoding.ts,
 * produce-patches.ts) against kafkajs 2.2.4's own modules, on the same inputs: the same bytes, the
 * same CRC, the same grouping.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { crc32c, groupMessagesPerPartition } from '../../src/kafka/kafkajs/produce-patches.ts'
import { encodeRecord } from '../../src/kafka/kafkajs/record-encoding.ts'

const require = createRequire(import.meta.url)

/** A kafkajs module evaluated from its file, whatever Node's module cache holds (produce-patches.ts puts evt's there). */
function original(id: string): unknown {
  const path = require.resolve(id)
  const mod = { exports: {} as unknown }
  new Function('module', 'exports', 'require', readFileSync(path, 'utf8'))(mod, mod.exports, createRequire(path))
  return mod.exports
}

const kafkajsRecord = original('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer }
const kafkajsCrc = original('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number
const kafkajsGrouping = original('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (): { writeVarInt(v: number): unknown; writeVarIntString(v: string): unknown; writeVarIntBytes(v: Buffer | null): unknown; buffer: Buffer } }

/** A pseudo-random generator (deterministic). */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const bytes = (rand: () => number, n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)))

describe('record encoding', () => {
  it('writes what kafkajs writes for records kafkajs can express (object headers, no nulls)', () => {
    const rand = prng(7)
    for (let i = 0; i < 500; i++) {
      const size = [0, 1, 63, 64, 127, 128, 8191, 8192, 70_000][i % 9]
      const record = {
        offsetDelta: [0, 1, 63, 64, 8191, 8192, 2 ** 20, 2 ** 31 - 1][i % 8],
        timestampDelta: [0, 1, -1, 63, -64, 2 ** 31, -(2 ** 33), 1_700_000_000_000][i % 8],
        key: i % 5 === 0 ? null : bytes(rand, i % 40),
        value: i % 7 === 0 ? null : bytes(rand, size),
        headers: i % 3 === 0 ? {} : { 'evt-replay-source': Buffer.from(`orders/${i % 6}/${i}`), ünïcode: bytes(rand, i % 9), [`h${i % 4}`]: bytes(rand, 200) },
      }
      expect(Buffer.from(encodeRecord(record).buffer), `record ${i}`).toEqual(Buffer.from(kafkajsRecord(record).buffer))
    }
  })

  it('writes ordered headers as given: duplicates, integer-like names and null values in place', () => {
    const headers = [{ key: 'b', value: Buffer.from('1') }, { key: '123', value: null }, { key: 'b', value: Buffer.from('2') }, { key: 'a', value: Buffer.alloc(0) }]
    const record = encodeRecord({ offsetDelta: 3, timestampDelta: 5, key: Buffer.from('k'), value: null, headers }).buffer
    // the expected bytes, field by field with kafkajs's own encoder (Kafka record v2)
    const body = new Encoder()
    const b = body as unknown as { writeInt8(v: number): unknown; writeVarLong(v: number): unknown }
    b.writeInt8(0)
    b.writeVarLong(5)
    body.writeVarInt(3)
    body.writeVarIntBytes(Buffer.from('k'))
    body.writeVarIntBytes(null)
    body.writeVarInt(headers.length)
    for (const h of headers) {
      body.writeVarIntString(h.key)
      body.writeVarIntBytes(h.value)
    }
    const whole = new Encoder()
    whole.writeVarInt(body.buffer.length)
    expect(Buffer.from(record)).toEqual(Buffer.concat([whole.buffer, body.buffer]))
  })
})

describe('crc32c', () => {
  it('is kafkajs\'s CRC-32C for every length and offset', () => {
    const rand = prng(11)
    const data = bytes(rand, 5000)
    for (let len = 0; len < 70; len++) for (const at of [0, 1, 3, 7]) expect(crc32c(data.subarray(at, at + len))).toBe(kafkajsCrc(data.subarray(at, at + len)))
    expect(crc32c(data)).toBe(kafkajsCrc(data))
    // the check value of CRC-32C (RFC 3720, "123456789")
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })
})

describe('groupMessagesPerPartition', () => {
  it('groups as kafkajs does, in order', () => {
    const rand = prng(3)
    const messages = Array.from({ length: 2000 }, (_, i) => ({ value: String(i), partition: Math.floor(rand() * 6) }))
    const args = { topic: 't', partitionMetadata: [{}, {}], messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition }
    expect(groupMessagesPerPartition(args)).toEqual(kafkajsGrouping(args))
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual({})
  })
})
