// Writes oclif.manifest.json (the command list with flags and help) after a build, so that
// oclif does not import every command file at start-up to learn them.
import { rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Config } from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
const path = `${root}oclif.manifest.json`
rmSync(path, { force: true }) // a stale manifest must not be read while loading
const config = await Config.load({ root })
const plugin = config.plugins.get(config.pjson.name)
const manifest = { ...plugin.manifest, version: config.version }
writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`)
