/**
 * vitest setup file: closes the Kafka sessions a test file opened through `testSession()` once
 * the file's tests are done, and drops kafkajs's TimeoutNegativeWarning as bin/run.js does.
 */
import { afterAll } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { dropTimeoutNegativeWarning } from '../../bin/quiet-warnings.js'
import { closeTestSessions } from './kafka.ts'

dropTimeoutNegativeWarning()

afterAll(async () => {
  await closeTestSessions()
})
