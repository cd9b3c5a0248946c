/**
 * Choosing partitions the way Kafka's Java client (and kcat with `partitioner=murmur2_random`,
 * and kafkajs's DefaultPartitioner) does for keyed records: `toPositive(murmur2(key)) % count`,
 * with Kafka's `Utils.murmur2` (seed 0x9747b28c). Records with the same key land on the same
 * partition whichever of those clients wrote them. Pure TypeScript, 32-bit integer arithmetic.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** Kafka's `Utils.murmur2`: the 32-bit murmur2 hash of `data`, as a signed int (as Java returns it). */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length & ~3
  switch (length % 4) {
    case 3:
      h ^= data[tail + 2] << 16
    // falls through
    case 2:
      h ^= data[tail + 1] << 8
    // falls through
    case 1:
      h ^= data[tail]
      h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not the absolute value). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/**
 * The partition of a keyed record among `partitionCount` partitions (0-based):
 * `toPositive(murmur2(key)) % partitionCount`.
 */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount
}
