#!/usr/bin/env node
import module from 'node:module'
import { ensureNode } from './node-check.js'

// Node's on-disk compile cache (Node >= 22.1): the second start of evt skips parsing and compiling
// oclif, kafkajs and evt's own modules again (about half of the start-up time). Kept in Node's
// default place (the system temp directory; NODE_COMPILE_CACHE chooses another,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off). A Node without it, or a cache directory that cannot
// be written, just compiles as before.
try {
  module.enableCompileCache?.()
} catch {}

// On a Node older than 22 this re-runs evt with the Node installed with it (or explains and exits).
await ensureNode(import.meta.url)

// `evt --version` answers without loading oclif (half of evt's start-up): the same line oclif prints
// (its Config.userAgent: name/version platform-arch node-version, "wsl" for Linux under WSL), which
// test/unit/startup.test.ts compares with oclif's own.
if (process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs')
  const os = await import('node:os')
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const platform = process.platform === 'linux' && os.release().toLowerCase().includes('microsoft') ? 'wsl' : process.platform
  process.stdout.write(`${pjson.name}/${pjson.version} ${platform}-${process.arch} node-${process.version}\n`)
  process.exit(0)
}
// oclif checks, when imported, that Node satisfies its own engines range (Node >= 18) by loading
// semver (47 modules, a tenth of a command's start-up); ensureNode above already required more.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
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
