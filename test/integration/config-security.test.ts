/**
 * Config hardening through the real CLI, against the local cluster's SASL_SSL listener
 * (127.0.0.1:9096, self-signed CA in .cluster/tls/ca.pem; SCRAM user evt / evt-secret):
 * strict booleans for TLS, the skipVerify warning, tokenCommand without a shell, and no secret
 * in anything evt prints.
 */
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, runEvt, type RunResult } from '../support/kafka.ts'

const CA = join(ROOT, '.cluster', 'tls', 'ca.pem')
const SCRAM = 'sasl: { mechanism: scram-sha-256, username: evt, password: evt-secret }'

/** Writes a config file (mode 0600) in a fresh directory; returns its path. */
function config(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'evt-config-sec-')), 'config.yaml')
  writeFileSync(path, text)
  chmodSync(path, 0o600)
  return path
}

function evt(args: string[], path: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runEvt(args, { env: { EVT_CONFIG: path, EVT_BROKERS: undefined, EVT_PROFILE: undefined, EVT_SCHEMA_REGISTRY_URL: undefined, EVT_VERBOSE: undefined, ...env } })
}

describe('TLS settings are strict booleans', () => {
  it('tls: { skipVerify: "false" } without a CA is refused by the schema (exit 2), not connected', async () => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls: { skipVerify: "false" }\n    ${SCRAM}\n`)
    const result = await evt(['topics', '--profile', 's', '--timeout', '5s'], path)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n')[0]).toBe(`evt: ${path}: profile "s": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the string "false")`)
  })

  it.each(['no', '${SKIP}'])('skipVerify: %s is refused too (a ${VAR} that would expand to false included)', async (value) => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls:\n      skipVerify: ${value}\n    ${SCRAM}\n`)
    const result = await evt(['topics', '--profile', 's', '--timeout', '5s'], path, { SKIP: 'false' })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('tls.skipVerify must be true or false')
    if (value.startsWith('$')) expect(result.stderr).toContain('a boolean cannot be written as ${VAR}')
  })

  it.each(['yes', '"true"'])('tls: %s is refused (exit 2) rather than shown as TLS and sent in plaintext', async (value) => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9092]\n    tls: ${value}\n`)
    for (const args of [['topics', '--profile', 's'], ['profiles', 'list']]) {
      const result = await evt(args, path)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`${path}: profile "s": tls must be true, false or a mapping`)
    }
  })

  it('skipVerify: false without the CA fails the TLS handshake with the self-signed broker (exit 3)', async () => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls: { skipVerify: false }\n    ${SCRAM}\n`)
    const result = await evt(['topics', '--profile', 's', '--timeout', '5s'], path)
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/^evt: TLS handshake with 127\.0\.0\.1:9096 failed/)
    expect(result.stderr).toContain('tls.ca')
  })

  it('skipVerify: true connects and prints one warning line on every run', async () => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls: { skipVerify: true }\n    ${SCRAM}\n`)
    for (let run = 0; run < 2; run++) {
      const result = await evt(['topics', '--profile', 's', '--timeout', '10s'], path)
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('evt: warning: profile "s" has tls.skipVerify: true: broker certificates are not checked, so anyone on the network path can read the traffic, credentials included (set tls.ca instead)\n')
    }
  })

  it('a world-readable file with a literal password: one warning naming the file and chmod 600', async () => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls: { ca: "${CA}" }\n    ${SCRAM}\n`)
    chmodSync(path, 0o644)
    const result = await evt(['topics', '--profile', 's'], path)
    expect(result.code).toBe(0)
    expect(result.stderr).toBe(`evt: warning: ${path} holds passwords and is readable by every user of this machine: run chmod 600 ${path} (or reference the passwords as \${VAR})\n`)
  })

  it('an empty password: is a usage error, not the password "null"', async () => {
    const path = config(`profiles:\n  s:\n    brokers: [127.0.0.1:9096]\n    tls: { ca: "${CA}" }\n    sasl:\n      mechanism: scram-sha-256\n      username: evt\n      password:\n`)
    const result = await evt(['topics', '--profile', 's'], path)
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe(`evt: ${path}: profile "s": sasl.password is empty`)
  })
})

describe('tokenCommand runs without a shell', () => {
  it('a variable holding "x; touch owned-file #" creates no file, whichever way the command is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evt-owned-'))
    const owned = join(dir, 'owned-file')
    const evil = `x; touch ${owned} #`
    const path = config(`profiles:
  list:
    brokers: [127.0.0.1:9096]
    tls: { ca: "${CA}" }
    sasl: { mechanism: oauthbearer, tokenCommand: [printf, "%s", "\${EVIL}"] }
  viaenv:
    brokers: [127.0.0.1:9096]
    tls: { ca: "${CA}" }
    sasl: { mechanism: oauthbearer, tokenCommand: "sh -c 'printf %s \\"$EVIL\\"'" }
`)
    // the whole file is checked when it is read: this one gets its own file
    const expandedPath = config(`profiles:\n  expanded:\n    brokers: [127.0.0.1:9096]\n    sasl: { mechanism: oauthbearer, tokenCommand: "printf \${EVIL}" }\n`)
    const list = await evt(['topics', '--profile', 'list', '--timeout', '5s'], path, { EVIL: evil })
    const viaEnv = await evt(['topics', '--profile', 'viaenv', '--timeout', '5s'], path, { EVIL: evil })
    // the token is printed, so the broker is asked: it does not offer OAUTHBEARER → exit 3
    expect(list.code).toBe(3)
    expect(viaEnv.code).toBe(3)
    expect(list.stderr).toMatch(/^evt: authentication failed at 127\.0\.0\.1:9096: The broker does not support the requested SASL mechanism/)
    const expanded = await evt(['topics', '--profile', 'expanded', '--timeout', '5s'], expandedPath, { EVIL: evil })
    expect(expanded.code).toBe(2)
    expect(expanded.stderr).toContain('profile "expanded": sasl.tokenCommand: the command is run without a shell and "$" is not expanded')
    expect(existsSync(owned)).toBe(false)
  })

  it('a hung tokenCommand → exit 3 naming the timeout, the command redacted', async () => {
    const path = config('profiles:\n  o:\n    brokers: [127.0.0.1:9096]\n    sasl: { mechanism: oauthbearer, tokenCommand: [sh, -c, "exec sleep 30", secret-arg-xyz] }\n')
    const result = await evt(['topics', '--profile', 'o', '--timeout', '1s'], path)
    expect(result.code).toBe(3)
    // the command sleeps 30 s: evt must end well before (its own start-up may take seconds on a loaded machine)
    expect(result.ms).toBeLessThan(25_000)
    expect(result.stderr.split('\n')[0]).toBe('evt: sasl.tokenCommand (sh …) did not finish within 1000 ms (--timeout)')
    expect(result.stderr).not.toContain('secret-arg-xyz')
  })
})

describe('no secret in anything evt prints', () => {
  const secrets = {
    saslPassword: 'Pl4nted-sasl-pw',
    registryUrlPassword: 'Pl4nted@url-pw',
    registryPassword: 'Pl4nted-reg-pw',
    token: 'Pl4nted-token-value',
    envInTokenCommand: 'Pl4nted-env-secret',
  }

  it('profiles list/show, a failing tokenCommand (text and --json), a registry error, a connect error with --verbose', async () => {
    const path = config(`default: scram
profiles:
  scram:
    brokers: [127.0.0.1:9096]
    tls: { ca: "${CA}" }
    sasl: { mechanism: scram-sha-512, username: evt, password: ${secrets.saslPassword} }
    registry: "http://reg-user:${secrets.registryUrlPassword}@127.0.0.1:1/apis/ccompat/v7"
  reg:
    registry: { url: "http://127.0.0.1:1/x", username: u, password: "\${REG_PW}" }
  token:
    brokers: [127.0.0.1:9096]
    tls: { ca: "${CA}" }
    sasl: { mechanism: oauthbearer, tokenCommand: [printf, "%s", "${secrets.token}"] }
  failing:
    brokers: [127.0.0.1:9096]
    sasl: { mechanism: oauthbearer, tokenCommand: [sh, -c, 'echo "no token for $PLANTED_ENV" >&2; exit 1'] }
`)
    const env = { REG_PW: secrets.registryPassword, PLANTED_ENV: secrets.envInTokenCommand }
    const runs: Array<[string, RunResult]> = []
    const run = async (args: string[], code: number) => {
      const result = await evt(args, path, env)
      runs.push([args.join(' '), result])
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(code)
      return result
    }
    const list = await run(['profiles', 'list'], 0)
    expect(list.stdout).toContain('http://reg-user:<redacted>@127.0.0.1:1/apis/ccompat/v7')
    const listJson = JSON.parse((await run(['profiles', 'list', '--json'], 0)).stdout) as { profiles: Array<{ registry: string }> }
    expect(listJson.profiles[0].registry).toBe('http://reg-user:<redacted>@127.0.0.1:1/apis/ccompat/v7')
    for (const name of ['scram', 'reg', 'token', 'failing']) {
      await run(['profiles', 'show', name], 0)
      await run(['profiles', 'show', name, '--json'], 0)
    }
    const failing = await run(['topics', '--profile', 'failing'], 3)
    expect(failing.stderr.split('\n')[0]).toBe('evt: sasl.tokenCommand (sh …) exited with code 1: no token for <redacted>')
    const failingJson = await run(['topics', '--profile', 'failing', '--json', '--verbose'], 3)
    expect(JSON.parse(failingJson.stdout)).toMatchObject({ error: { kind: 'auth', exitCode: 3, message: 'sasl.tokenCommand (sh …) exited with code 1: no token for <redacted>' } })
    const registry = await run(['schemas', '--profile', 'scram'], 3)
    expect(registry.stderr).toContain('http://reg-user:<redacted>@127.0.0.1:1')
    await run(['schemas', '--profile', 'reg', '--json'], 3)
    const verbose = await run(['topics', '--profile', 'scram', '--verbose', '--timeout', '5s'], 3)
    expect(verbose.stderr).toContain('authentication failed')
    expect(verbose.stderr).toContain('"level"') // the client's log lines are there
    await run(['topics', '--profile', 'token', '--verbose', '--timeout', '5s'], 3)

    for (const [what, result] of runs) {
      for (const [name, secret] of Object.entries(secrets)) {
        expect(result.stdout, `${name} in the stdout of evt ${what}`).not.toContain(secret)
        expect(result.stderr, `${name} in the stderr of evt ${what}`).not.toContain(secret)
      }
      // the part after the @ in the URL password must not show either
      expect(`${result.stdout}${result.stderr}`, what).not.toContain('url-pw')
    }
    // about 20 evt runs one after the other: a loaded machine needs more than the default 60 s
  }, 180_000)
})
