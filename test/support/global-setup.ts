/**
 * Starts the local cluster (real Kafka + schema registry, with the SASL_SSL listener for the
 * security tests, and PostgreSQL with the outbox relay for the outbox tests) through the project's cluster script, unless EVT_TEST_CLUSTER=0 (unit tests
 * only). A running cluster with these options is reused; one with other options is replaced.
 */
// @ts-expect-error plain ESM script without type declarations
import { dropTimeoutNegativeWarning } from '../../bin/quiet-warnings.js'
// @ts-expect-error plain ESM script without type declarations
import { up } from '../../scripts/cluster.mjs'

dropTimeoutNegativeWarning()

export default async function setup(): Promise<void> {
  if (process.env.EVT_TEST_CLUSTER === '0') return
  await up({ saslSsl: true, outbox: true, restart: true, log: (line: string) => process.stderr.write(`[cluster] ${line}\n`) })
}
