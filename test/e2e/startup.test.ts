/**
 * Start-up work: `evt --version` answers without oclif and prints exactly oclif's own version line;
 * importing a command loads none of the format and filter libraries (avsc, protobufjs, ajv, yaml,
 * cel-js), which evt loads when a record, schema, config file or expression needs them.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Config } from '@oclif/core'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/kafka.ts'

const BIN = path.join(ROOT, 'bin', 'run.js')

describe('start-up', () => {
  it('evt --version prints the line oclif prints (name/version platform-arch node-version)', async () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const config = await Config.load({ root: ROOT })
    expect(r.stdout).toBe(`${config.userAgent}\n`)
  })

  it('importing a command loads no format or filter library (they load when a record, schema, config file or expression needs them)', () => {
    // a module hook that lists every module loaded, printed at exit
    const dir = mkdtempSync(path.join(tmpdir(), 'evt-startup-'))
    const hook = path.join(dir, 'list-modules.mjs')
    writeFileSync(hook, [
      "import module from 'node:module'",
      'const loaded = new Set()',
      'module.registerHooks({ load(url, context, next) { loaded.add(url); return next(url, context) } })',
      "process.on('exit', () => process.stderr.write(`MODULES ${JSON.stringify([...loaded])}\\n`))",
    ].join('\n'))
    for (const command of ['tail', 'trace', 'replay', 'dlq/requeue', 'dlq/inspect']) {
      const file = path.join(ROOT, 'dist', 'commands', `${command}.js`)
      const r = spawnSync(process.execPath, ['--import', hook, '-e', `await import(${JSON.stringify(file)})`, '--input-type=module'], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '))
      const urls = JSON.parse(line!.slice('MODULES '.length)) as string[]
      // the hook does see the command's own graph, kafkajs included (so an empty list cannot pass)
      expect(urls.some((u) => u.endsWith(`/dist/commands/${command}.js`))).toBe(true)
      const packages = new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter(Boolean))
      expect(packages).toContain('kafkajs')
      for (const lazy of ['avsc', 'protobufjs', 'ajv', 'yaml', '@marcbachmann/cel-js']) expect(packages, `${command} loaded ${lazy}`).not.toContain(lazy)
    }
  })
})
