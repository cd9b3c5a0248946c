import { describe, expect, it } from 'vitest'
import { murmur2, partitionForKey, toPositive } from '../../src/kafka/partitioner.ts'

/**
 * Expected values were computed once with kafkajs 2.2.4's `Partitioners.DefaultPartitioner` (and
 * its murmur2 module), which follows Kafka's Java `Utils.murmur2`; they are hard-coded here so that
 * this test does not depend on kafkajs. "abc" → 479470107 and "21" → -973932308 are also the values
 * of Kafka's own UtilsTest (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
 * Columns: key (hex), murmur2, partition among 3, 6, 12 and 100 partitions.
 */
const KNOWN: Array<[string, number, [number, number, number, number]]> = [
  ['', 275646681, [0, 3, 9, 81]],
  ['61', -1563381124, [1, 4, 4, 24]],
  ['6162', 316155434, [2, 2, 2, 34]],
  ['616263', 479470107, [0, 3, 3, 7]],
  ['61626364', -1323649548, [2, 2, 8, 0]],
  ['6b30', -704538303, [2, 5, 5, 45]],
  ['6b3136', -172459107, [2, 5, 5, 41]],
  ['6f726465722d3432', 501153024, [0, 0, 0, 24]],
  ['637573746f6d65722d31303031', 2073265393, [1, 1, 1, 93]],
  ['68656c6c6f20776f726c64', 1221641059, [1, 1, 7, 59]],
  ['3231', -973932308, [0, 0, 0, 40]],
  ['6b61666b61', -798503068, [1, 4, 4, 80]],
  ['ff80007ffe', 768357719, [2, 5, 11, 19]],
]

describe('murmur2 partitioner (Java-compatible)', () => {
  for (const [hex, hash, partitions] of KNOWN) {
    it(`key ${JSON.stringify(Buffer.from(hex, 'hex').toString('latin1'))} (${hex.length / 2} bytes)`, () => {
      const key = Buffer.from(hex, 'hex')
      expect(murmur2(key)).toBe(hash)
      expect([3, 6, 12, 100].map((n) => partitionForKey(key, n))).toEqual(partitions)
    })
  }

  it('toPositive clears the sign bit only', () => {
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(5)).toBe(5)
  })

  it('always lands in range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(Buffer.from(`key-${i}`), 7)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(7)
    }
  })
})
