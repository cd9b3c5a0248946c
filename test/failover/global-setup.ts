/**
 * Failover tests need three brokers: this setup (re)starts the local cluster with 3 KRaft nodes
 * (RF 3, min ISR 2), without the registry, through the project's cluster script.
 */
// @ts-expect-error plain ESM script without type declarations
import { up } from '../../scripts/cluster.mjs'

export default async function setup(): Promise<void> {
  await up({ brokers: 3, registry: false, restart: true, log: (line: string) => process.stderr.write(`[cluster] ${line}\n`) })
}
