#!/usr/bin/env node
// Development entry: recompiles src/ to dist/ (native TypeScript compiler, a second or two) and the
// command manifest, then runs it.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ensureNode } from './node-check.js'

await ensureNode(import.meta.url)
const { dropTimeoutNegativeWarning } = await import('./quiet-warnings.js')
dropTimeoutNegativeWarning()
const { execute } = await import('@oclif/core')

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)
const manifest = spawnSync(process.execPath, ['scripts/manifest.mjs'], { cwd: root, stdio: 'ignore' })
if (manifest.status !== 0) process.exit(manifest.status ?? 1)
await execute({ dir: import.meta.url })
