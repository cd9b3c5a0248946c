/**
 * tokenCommand: split without a shell, run without a shell, bounded, its output a secret.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fetchToken, fetchTokenSync, referencedVariables, registerCommandSecrets, splitCommandLine, tokenCommandArgv } from '../../src/config/token-command.ts'
import { EvtError } from '../../src/errors.ts'
import { clearSecrets, redact } from '../../src/redact.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evt-token-test-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  clearSecrets()
})

describe('splitCommandLine', () => {
  it.each<[string, string[]]>([
    ['gcloud auth print-access-token', ['gcloud', 'auth', 'print-access-token']],
    ['  a\tb \n c  ', ['a', 'b', 'c']],
    ["printf ' tok-123 '", ['printf', ' tok-123 ']],
    ['say "a b" \'c d\' e\\ f', ['say', 'a b', 'c d', 'e f']],
    ['x "" \'\'', ['x', '', '']],
    ['x "q\\"uote \\\\ \\$ \\n"', ['x', 'q"uote \\ $ \\n']],
    ['x a"b"\'c\'d', ['x', 'abcd']],
    ["sh -c 'echo $X; exit 1'", ['sh', '-c', 'echo $X; exit 1']],
    ['x a#b', ['x', 'a#b']],
    ['x \\; \\|', ['x', ';', '|']],
  ])('%j → %j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words)
  })

  it.each([
    ['a; touch f', 'shell syntax ";" is not supported'],
    ['a | b', 'shell syntax "|" is not supported'],
    ['a && b', 'shell syntax "&" is not supported'],
    ['a > f', 'shell syntax ">" is not supported'],
    ['a $(b)', '"$" is not expanded'],
    ['a `b`', 'shell syntax "`" is not supported'],
    ['printf ${TOKEN}', '"$" is not expanded'],
    ['printf "$TOKEN"', '"$" is not expanded'],
    ['a # comment', 'shell syntax "#" is not supported'],
    ["a 'open", "unterminated ' quote"],
    ['a "open', 'unterminated " quote'],
    ['a \\', 'trailing \\'],
    ['   ', 'it is empty'],
  ])('%j is refused: %s', (line, reason) => {
    expect(() => splitCommandLine(line)).toThrow(reason)
  })

  it('tokenCommandArgv takes a list as is, refuses an empty program', () => {
    expect(tokenCommandArgv(['a', 'b c'])).toEqual(['a', 'b c'])
    expect(() => tokenCommandArgv([''])).toThrow('it is empty')
  })
})

describe('running it', () => {
  it('stdout (trimmed) is the token, registered as a secret', async () => {
    expect(fetchTokenSync(['printf', '  tok-abc\n'], 5000)).toBe('tok-abc')
    await expect(fetchToken(['printf', 'tok-def'], 5000)).resolves.toBe('tok-def')
    expect(redact('got tok-abc and tok-def')).toBe('got <redacted> and <redacted>')
  })

  it('a variable holding shell syntax is not run: no shell, no substitution', async () => {
    const owned = join(dir, 'owned-file')
    const env = { ...process.env, EVIL: `x; touch ${owned} #` }
    // the variable reaches the command through the environment, as data
    expect(fetchTokenSync(['sh', '-c', 'printf %s "$EVIL"'], 5000, env)).toBe(`x; touch ${owned} #`)
    // ${EVIL} in the argv is passed literally
    await expect(fetchToken(['printf', '%s', '${EVIL}'], 5000, env)).resolves.toBe('${EVIL}')
    expect(existsSync(owned)).toBe(false)
  })

  it.each(['sync', 'async'])('%s: a non-zero exit → auth (exit 3) with its stderr, redacted', async (mode) => {
    const env = { ...process.env, MY_TOKEN_SECRET: 'env-secret-value-1' }
    const argv = ['sh', '-c', 'echo "denied for $MY_TOKEN_SECRET" >&2; echo line2 >&2; exit 7']
    registerCommandSecrets(argv, env)
    const err = await (mode === 'sync' ? Promise.resolve().then(() => fetchTokenSync(argv, 5000, env)) : fetchToken(argv, 5000, env)).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(EvtError)
    expect(err).toMatchObject({ kind: 'auth', exitCode: 3, message: 'sasl.tokenCommand (sh …) exited with code 7: denied for <redacted> | line2' })
  })

  it.each(['sync', 'async'])('%s: a hung command is killed after the timeout → exit 3 naming it', async (mode) => {
    const started = Date.now()
    const argv = mode === 'sync' ? ['sleep', '30'] : ['sh', '-c', 'sleep 30; echo late']
    const err = await (mode === 'sync' ? Promise.resolve().then(() => fetchTokenSync(argv, 500)) : fetchToken(argv, 500)).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ kind: 'auth', exitCode: 3, message: `sasl.tokenCommand (${argv[0]} …) did not finish within 500 ms (--timeout)` })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a missing program, an empty output', async () => {
    expect(() => fetchTokenSync(['/nonexistent/get-token'], 1000)).toThrow('sasl.tokenCommand (/nonexistent/get-token) failed: program not found')
    await expect(fetchToken(['true'], 1000)).rejects.toThrow('sasl.tokenCommand (true) printed no token')
  })

  it('referencedVariables finds $NAME and ${NAME}; HOME-like variables are not registered', () => {
    expect(referencedVariables(['sh', '-c', 'tok --key "$KEY" --user ${USER_NAME} $HOME'])).toEqual(['KEY', 'USER_NAME', 'HOME'])
    registerCommandSecrets(['sh', '-c', 'x $HOME $K'], { HOME: '/home/someone', K: 'k-secret-1' })
    expect(redact('/home/someone k-secret-1')).toBe('/home/someone <redacted>')
  })
})
