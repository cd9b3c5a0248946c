#!/usr/bin/env node
import { ensureNode } from './node-check.js'

// On a Node older than 22 this re-runs evt with the Node installed with it (or explains and exits).
await ensureNode(import.meta.url)
const { execute } = await import('@oclif/core')

// kafkajs's negative timer delay warns on Node >= 23 on every connection: dropped (see the module)
const { dropTimeoutNegativeWarning } = await import('./quiet-warnings.js')
dropTimeoutNegativeWarning()

// A reader that went away (`evt … | head`) ends the output, not the process with an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0)
})
process.stderr.on('error', () => {})

// SIGTERM (kill, systemd, Kubernetes, a CI runner's timeout) stops a command the way Ctrl-C does:
// the same handlers run (an open transaction is aborted, the resume hint printed); the exit code is
// 143 (128 + SIGTERM). A second SIGTERM, or one that arrives when no command listens, exits at once.
let terminated = false
process.on('SIGTERM', () => {
  if (terminated || process.listenerCount('SIGINT') === 0) process.exit(143)
  terminated = true
  process.emit('SIGINT', 'SIGTERM')
})
// However the command ends after a SIGTERM (an error path calls process.exit(130) itself), the exit
// code says SIGTERM.
process.on('exit', (code) => {
  if (terminated && code === 130) process.exitCode = 143
})

await execute({ dir: import.meta.url })

// The command has ended and closed what it opened (each close bounded). A Kafka client that is still
// retrying somewhere (a connection to a dead broker) must not keep the process alive: once stdout and
// stderr are written out, exit.
if (terminated && [undefined, 0, 130].includes(process.exitCode)) process.exitCode = 143
const { flushed } = await import('./flush.js')
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit()
