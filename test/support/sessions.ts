/**
 * vitest setup file: closes the Kafka sessions a test file opened through `testSession()` once
 * the file's tests are done.
 */
import { afterAll } from 'vitest'
import { closeTestSessions } from './kafka.ts'

afterAll(async () => {
  await closeTestSessions()
})
