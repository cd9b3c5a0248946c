/**
 * Failover tests need three brokers, the schema registry and the outbox relay: this setup (re)starts the local cluster
 * with 3 KRaft nodes (RF 3, min ISR 2) and Apicurio Registry, through the project's cluster script.
 * Every restart inside the tests passes the same options (CLUSTER_OPTIONS in support.ts).
 */
import { clusterUp } from './support.ts'

export default async function setup(): Promise<void> {
  await clusterUp({ restart: true })
}
