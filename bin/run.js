#!/usr/bin/env node
import { ensureNode } from './node-check.js'

// On a Node older than 22 this re-runs evt with the Node installed with it (or explains and exits).
await ensureNode(import.meta.url)
const { execute } = await import('@oclif/core')

// kafkajs 2.2.4 schedules its request-queue check with a negative delay when it is not
// throttled; Node ≥ 23 warns about that on every connection. The delay is clamped to 1 ms
// either way, so the warning carries nothing for users: drop that one warning only.
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type
  if (type === 'TimeoutNegativeWarning' || warning?.name === 'TimeoutNegativeWarning') return
  emitWarning(warning, ...rest)
}

// A reader that went away (`evt … | head`) ends the output, not the process with an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0)
})
process.stderr.on('error', () => {})

await execute({ dir: import.meta.url })
