/**
 * The Kafka client seam: only the adapter folder (src/kafka/kafkajs/) imports kafkajs. The demo
 * shop (src/demo/) plays the user's own services with real consumer groups and is exempt.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))
const ALLOWED = ['kafka/kafkajs/', 'demo/']

/** Every .ts/.tsx/.js/.mjs/.cjs file under `dir`, as paths relative to src/ with forward slashes. */
function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(full))
    else if (/\.(m|c)?[jt]sx?$/.test(entry.name)) out.push(path.relative(SRC, full).split(path.sep).join('/'))
  }
  return out
}

/** A module specifier naming the kafkajs package or a path inside it. */
const KAFKAJS = String.raw`['"\`]kafkajs(?:/[^'"\`]*)?['"\`]`

/**
 * The kafkajs imports of a source text: static `import … from` / `export … from` / bare `import`,
 * dynamic `import()`, `require()` (including a `createRequire`'d one) and `require.resolve()`.
 */
export function kafkajsImports(text: string): string[] {
  const patterns = [
    new RegExp(String.raw`\b(?:import|export)\b[^;]*?\bfrom\s*${KAFKAJS}`, 'g'),
    new RegExp(String.raw`\bimport\s*${KAFKAJS}`, 'g'),
    new RegExp(String.raw`\bimport\s*\(\s*${KAFKAJS}`, 'g'),
    // require(), require.resolve(), or any other function handed the name (a createRequire'd `req('kafkajs')`)
    new RegExp(String.raw`[\w$.]+\s*\(\s*${KAFKAJS}`, 'g'),
  ]
  // one entry per module name found (several patterns may see the same one), keyed by where it ends
  const found = new Map<number, string>()
  for (const p of patterns) for (const m of text.matchAll(p)) found.set(m.index + m[0].length, m[0].replace(/\s+/g, ' '))
  return [...found.values()]
}

describe('the Kafka client seam', () => {
  it('recognises every way of importing kafkajs', () => {
    expect(kafkajsImports(`import kafkajs from 'kafkajs'`)).toHaveLength(1)
    expect(kafkajsImports(`import type { Admin } from "kafkajs"`)).toHaveLength(1)
    expect(kafkajsImports(`import {\n  Kafka,\n} from 'kafkajs'`)).toHaveLength(1)
    expect(kafkajsImports(`export { Kafka } from 'kafkajs'`)).toHaveLength(1)
    expect(kafkajsImports(`import 'kafkajs/src/protocol/requests/index.js'`)).toHaveLength(1)
    expect(kafkajsImports(`const k = await import('kafkajs')`)).toHaveLength(1)
    expect(kafkajsImports(`const { requests } = require('kafkajs/src/protocol/requests/index.js')`)).toHaveLength(1)
    expect(kafkajsImports(`const p = require.resolve('kafkajs/src/protocol/encoder.js')`)).toHaveLength(1)
    expect(kafkajsImports(`const req = createRequire(import.meta.url)\nconst apiKeys = req('kafkajs/src/protocol/requests/apiKeys.js')`)).toHaveLength(1)
    expect(kafkajsImports(`import { x } from './kafkajs/client.ts'`)).toEqual([])
    expect(kafkajsImports(`import { x } from '@kafkajs/confluent-schema-registry'`)).toEqual([])
    expect(kafkajsImports(`// kafkajs is the client library`)).toEqual([])
  })

  it('no file under src/ outside src/kafka/kafkajs/ and src/demo/ imports kafkajs', () => {
    const files = sourceFiles(SRC)
    expect(files.length).toBeGreaterThan(50)
    const offenders = files
      .filter((f) => !ALLOWED.some((dir) => f.startsWith(dir)))
      .flatMap((f) => kafkajsImports(readFileSync(path.join(SRC, f), 'utf8')).map((imp) => `src/${f}: ${imp}`))
    expect(offenders, `only src/kafka/kafkajs/ may import kafkajs:\n${offenders.join('\n')}`).toEqual([])
  })
})
