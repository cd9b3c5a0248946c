/**
 * Bounded scans for DLQ discovery: which offsets to read so that a topic costs at most N
 * records, however its records are spread over partitions.
 */
import type { PartitionPlan } from '../kafka/reader.ts'

/**
 * Splits `budget` records over partitions of the given sizes, as evenly as possible without
 * giving a partition more than it has (water-filling): small partitions are read whole and
 * what they leave goes to the big ones. Returns one count per input, same order.
 */
export function allocate(sizes: number[], budget: number): number[] {
  const out = sizes.map(() => 0)
  let left = Math.max(0, Math.floor(budget))
  const order = sizes.map((s, i) => ({ s: Math.max(0, s), i })).sort((a, b) => a.s - b.s)
  for (let k = 0; k < order.length; k++) {
    const share = Math.floor(left / (order.length - k))
    const take = Math.min(order[k].s, share)
    out[order[k].i] = take
    left -= take
  }
  // hand out the remainder of the division to partitions that still have records
  for (const { s, i } of [...order].reverse()) {
    if (left <= 0) break
    const more = Math.min(left, s - out[i])
    out[i] += more
    left -= more
  }
  return out
}

/**
 * Narrows plans (one per partition, any range) to the last records of each topic: at most
 * `perTopic` records per topic, ending at the high watermark taken when planning.
 */
export function lastRecords(plans: PartitionPlan[], perTopic: number): PartitionPlan[] {
  const byTopic = new Map<string, PartitionPlan[]>()
  for (const p of plans) {
    if (!byTopic.has(p.topic)) byTopic.set(p.topic, [])
    byTopic.get(p.topic)!.push(p)
  }
  const out: PartitionPlan[] = []
  for (const ps of byTopic.values()) {
    const counts = allocate(ps.map((p) => p.high - p.low), perTopic)
    ps.forEach((p, i) => out.push({ ...p, start: p.high - counts[i], end: p.high }))
  }
  return out
}

/** The first few records of each partition not already covered by `scan` (for the oldest record's time). */
export function headRecords(plans: PartitionPlan[], scan: PartitionPlan[], count = 20): PartitionPlan[] {
  const covered = new Map(scan.map((p) => [`${p.topic}/${p.partition}`, p.start]))
  return plans
    .filter((p) => p.high > p.low && (covered.get(`${p.topic}/${p.partition}`) ?? p.high) > p.low)
    .map((p) => ({ ...p, start: p.low, end: Math.min(p.high, p.low + count) }))
}
