/**
 * `sasl.tokenCommand`: the program that prints an OAUTHBEARER token, run WITHOUT a shell.
 *
 * In the profile it is either an argv list (`[gcloud, auth, print-access-token]`) or a string
 * split into words by {@link splitCommandLine}. `${VAR}` is never substituted into it: the command
 * runs with evt's environment, so it reads its variables itself (`[sh, -c, 'tok --key "$KEY"']`
 * when a shell is really wanted). Its stdout, trimmed, is the token; it is bounded by `--timeout`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { EvtError } from '../errors.ts'
import { redact, registerSecret } from '../redact.ts'

/** Characters a shell would interpret outside quotes; refused in the string form. */
const SHELL_SYNTAX = new Set([';', '&', '|', '<', '>', '(', ')', '`'])

/**
 * Splits a command line into words the way a POSIX shell splits simple words, and nothing more:
 * blanks separate words; `'…'` is literal; `"…"` keeps blanks, and `\` in it escapes `"`, `\`, `$`
 * and `` ` `` only; `\` outside quotes escapes the next character; `''` and `""` are empty words.
 *
 * Nothing is expanded or run. What a shell would expand or interpret — `$` (outside single
 * quotes), `` ` ``, `;`, `&`, `|`, `<`, `>`, `(`, `)`, a `#` starting a word — is refused, so that a
 * line written for a shell does not silently mean something else.
 * @throws Error (message without the line itself) for refused syntax, an unterminated quote or
 *   a trailing `\`, or a line without words.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  const notExpanded = 'the command is run without a shell and "$" is not expanded: it gets evt\'s environment, so let it read the variable itself (e.g. [sh, -c, \'tok --key "$KEY"\'])'
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new Error('unterminated \' quote')
      word += line.slice(i + 1, end)
      inWord = true
      i = end
    } else if (c === '"') {
      inWord = true
      let closed = false
      for (i++; i < line.length; i++) {
        const d = line[i]
        if (d === '"') {
          closed = true
          break
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
          word += line[++i]
        } else if (d === '$') {
          throw new Error(notExpanded)
        } else if (d === '`') {
          throw new Error('shell syntax "`" is not supported: the command is run without a shell (write it as a list, e.g. [sh, -c, \'…\'], if it needs one)')
        } else word += d
      }
      if (!closed) throw new Error('unterminated " quote')
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('trailing \\')
      word += line[++i]
      inWord = true
    } else if (c === '$') {
      throw new Error(notExpanded)
    } else if (SHELL_SYNTAX.has(c) || (c === '#' && !inWord)) {
      throw new Error(`shell syntax "${c}" is not supported: the command is run without a shell (write it as a list, e.g. [sh, -c, '…'], if it needs one)`)
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) words.push(word)
  if (words.length === 0) throw new Error('it is empty')
  return words
}

/**
 * The argv of a `tokenCommand` as written in a profile (a list, or a string for
 * {@link splitCommandLine}).
 * @throws Error as {@link splitCommandLine}, or for an empty list or an empty program name.
 */
export function tokenCommandArgv(value: string | readonly string[]): string[] {
  const argv = typeof value === 'string' ? splitCommandLine(value) : [...value]
  if (argv.length === 0 || !argv[0]) throw new Error('it is empty')
  return argv
}

/** Names of environment variables a tokenCommand's words refer to (`$NAME`, `${NAME}`). */
export function referencedVariables(argv: readonly string[]): string[] {
  const names = new Set<string>()
  for (const word of argv) for (const m of word.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1])
  return [...names]
}

/** Environment variables that hold no secret and whose values appear in ordinary messages. */
const NOT_SECRET = new Set(['HOME', 'PATH', 'PWD', 'OLDPWD', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'TERM', 'HOSTNAME', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR'])

/**
 * Registers, as secrets to redact, the values of the variables a tokenCommand refers to (they
 * reach the command through the environment and may come back in its stderr).
 */
export function registerCommandSecrets(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  for (const name of referencedVariables(argv)) if (!NOT_SECRET.has(name)) registerSecret(env[name])
}

/** How the command ended, whichever way it was run. */
interface Outcome {
  /** Spawn error (ENOENT, EACCES…); `timedOut` wins over it. */
  error?: NodeJS.ErrnoException
  timedOut: boolean
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

const HINT = 'run the command by hand, and fix sasl.tokenCommand in the profile (evt profiles show)'

/** The command as messages name it: the program only, redacted (its arguments may hold secrets). */
function shown(argv: readonly string[]): string {
  return redact(`${argv[0]}${argv.length > 1 ? ' …' : ''}`)
}

/** The token from an outcome. @throws EvtError (auth, exit 3). */
function tokenOf(argv: readonly string[], timeoutMs: number, o: Outcome): string {
  const fail = (what: string) => new EvtError('auth', `sasl.tokenCommand (${shown(argv)}) ${what}`, { hint: HINT })
  if (o.timedOut) throw fail(`did not finish within ${timeoutMs} ms (--timeout)`)
  if (o.error) throw fail(o.error.code === 'ENOENT' ? 'failed: program not found' : `failed: ${o.error.code ?? redact(o.error.message)}`)
  const stderr = redact(o.stderr.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' | ')).slice(0, 500)
  if (o.status !== 0) throw fail(`${o.signal ? `was killed by ${o.signal}` : `exited with code ${o.status}`}${stderr ? `: ${stderr}` : ''}`)
  const token = o.stdout.trim()
  if (!token) throw fail(`printed no token${stderr ? `: ${stderr}` : ''}`)
  registerSecret(token)
  return token
}

const MAX_OUTPUT = 1024 * 1024

/**
 * Runs the command synchronously (at most `timeoutMs`, then killed) and returns the token.
 * @throws EvtError (auth, exit 3): not found, timed out, non-zero exit (with its stderr, redacted),
 *   no output.
 */
export function fetchTokenSync(argv: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT })
  const error = r.error as NodeJS.ErrnoException | undefined
  return tokenOf(argv, timeoutMs, { error, timedOut: error?.code === 'ETIMEDOUT', status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' })
}

/**
 * Runs the command without blocking (in its own process group, killed whole after `timeoutMs`)
 * and returns the token. Errors as {@link fetchTokenSync}.
 */
export function fetchToken(argv: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const settle = (o: Outcome) => {
      try {
        resolve(tokenOf(argv, timeoutMs, o))
      } catch (err) {
        reject(err)
      }
    }
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    let done = false
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString('utf8')).slice(0, MAX_OUTPUT)))
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(0, MAX_OUTPUT)))
    const timer = setTimeout(() => {
      if (done) return
      done = true
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
      settle({ timedOut: true, status: null, signal: null, stdout, stderr })
    }, timeoutMs)
    child.on('error', (error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      settle({ error, timedOut: false, status: null, signal: null, stdout, stderr })
    })
    child.on('close', (status, signal) => {
      if (done) return
      done = true
      clearTimeout(timer)
      settle({ timedOut: false, status, signal, stdout, stderr })
    })
  })
}
