/**
 * The local PostgreSQL server for the trace index tests: started (once, beside the running Kafka
 * cluster) by the cluster script only for the test files that call {@link testPostgres}.
 */
// @ts-expect-error plain ESM script without type declarations
import { POSTGRES_URL, up } from '../../scripts/cluster.mjs'

/** Starts PostgreSQL (127.0.0.1:15432, database evt, user postgres) if it does not run; its URL. */
export async function testPostgres(): Promise<string> {
  if (process.env.EVT_TEST_CLUSTER !== '0') await up({ saslSsl: true, postgres: true, log: () => {} })
  return POSTGRES_URL as string
}
