/**
 * Usage errors in evt's own form: one `evt: …` line, one `  hint: …` line, nothing else on
 * stderr, nothing on stdout; exit 2 for flags and arguments, 127 for an unknown command (never a
 * prompt, never another command run, on a terminal too). None of these reach a broker.
 */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ROOT, runEvt } from '../support/kafka.ts'

const cases: Array<{ args: string[]; code: number; error: string; hint: string }> = [
  { args: ['tial', 'orders.events'], code: 127, error: 'evt: unknown command "tial"', hint: '  hint: did you mean "evt tail"? see evt --help' },
  { args: ['dlq', 'inspct', 'payments.events-dlt'], code: 127, error: 'evt: unknown command "dlq inspct"', hint: '  hint: did you mean "evt dlq inspect"? see evt dlq --help' },
  { args: ['frobnicate'], code: 127, error: 'evt: unknown command "frobnicate"', hint: '  hint: see evt --help for the commands' },
  { args: ['--bogus'], code: 2, error: 'evt: unknown flag --bogus', hint: '  hint: flags come after a command (evt <command> --bogus); see evt --help' },
  { args: ['tail', 'orders.events', '--filtr', 'x'], code: 2, error: 'evt: unknown flag --filtr', hint: '  hint: did you mean --filter? see evt tail --help' },
  { args: ['tail', 'orders.events', '--nope'], code: 2, error: 'evt: unknown flag --nope', hint: '  hint: see evt tail --help' },
  { args: ['trace'], code: 2, error: 'evt: missing argument ID: Correlation id (or W3C trace id) of the request', hint: '  hint: usage: evt trace ID [flags]; see evt trace --help' },
  { args: ['dlq', 'inspect'], code: 2, error: 'evt: missing argument TOPIC: The dead-letter topic', hint: '  hint: usage: evt dlq inspect TOPIC [flags]; see evt dlq inspect --help' },
  { args: ['profiles', 'show', 'a', 'b'], code: 2, error: 'evt: unexpected argument "b"', hint: '  hint: usage: evt profiles show [NAME] [flags]; see evt profiles show --help' },
  { args: ['tail', 'orders.events', '-o'], code: 2, error: 'evt: --offset needs a value', hint: '  hint: see evt tail --help' },
  { args: ['tail', 'orders.events', '--isolation', 'foo'], code: 2, error: 'evt: --isolation: "foo" is not one of read_committed, read_uncommitted', hint: '  hint: see evt tail --help' },
  // a URL's password is hidden, the user names of the example URLs in hints are not
  { args: ['outbox', 'check', '--db', 'postgres://evt:s3cret@ho st/x'], code: 2, error: 'evt: --db "postgres://evt:<redacted>@ho st/x" is not a URL', hint: '  hint: e.g. --db postgres://user@host:5432/dbname' },
  { args: ['trace', 'req_1', '--index', 'postgres://evt:s3cret@ho st/x'], code: 2, error: 'evt: "postgres://evt:<redacted>@ho st/x" is not a valid PostgreSQL URL', hint: '  hint: e.g. postgres://evt@127.0.0.1:5432/evt' },
  // integer flags out of range: the reason and the accepted range, not oclif's bare "Parsing --flag"
  { args: ['lint', '-n', '0'], code: 2, error: 'evt: --max-messages: expected an integer >= 1, got 0', hint: '  hint: --max-messages: Read at most the last N records of each partition (default 10000; with --since, only when given); see evt lint --help' },
  { args: ['lint', '--evidence', '-1'], code: 2, error: 'evt: --evidence: expected an integer >= 0, got -1', hint: '  hint: --evidence: Records shown per finding; see evt lint --help' },
  { args: ['outbox', 'tail', '--max-rows', '0'], code: 2, error: 'evt: --max-rows: expected an integer >= 1, got 0', hint: '  hint: --max-rows: Stop after this many rows have landed or been reported late; see evt outbox tail --help' },
  { args: ['tail', 'orders.events', '-n', 'ten'], code: 2, error: 'evt: --max-messages: expected an integer >= 0, got "ten"', hint: '  hint: --max-messages: Stop after this many records (after filters); see evt tail --help' },
  // internal topics are never an outbox relay's topics
  { args: ['outbox', 'check', '--db', 'postgres://evt@127.0.0.1:1/evt', '--topic', '__consumer_offsets'], code: 2, error: 'evt: --topic __consumer_offsets: "__consumer_offsets" is one of Kafka\'s internal topics, not an outbox relay\'s topic', hint: '  hint: name the topics the relay publishes to (Debezium\'s outbox event router: outbox.event.<aggregate type>), or leave --topic out to read every topic starting with --topic-prefix' },
  { args: ['outbox', 'tail', '--db', 'postgres://evt@127.0.0.1:1/evt', '--topic', '_schemas'], code: 2, error: 'evt: --topic _schemas: "_schemas" is a schema registry or Kafka Connect internal topic, not an outbox relay\'s topic', hint: '  hint: name the topics the relay publishes to (Debezium\'s outbox event router: outbox.event.<aggregate type>), or leave --topic out to read every topic starting with --topic-prefix' },
  { args: ['outbox', 'check', '--db', 'postgres://evt@127.0.0.1:1/evt', '--topic-prefix', '__'], code: 2, error: 'evt: --topic-prefix __: topics starting with __ are Kafka\'s internal topics, not an outbox relay\'s', hint: '  hint: give the prefix of the relay\'s topics, e.g. outbox.event.' },
]

describe('usage errors', () => {
  for (const c of cases) {
    it(`evt ${c.args.join(' ')} → exit ${c.code}, two lines`, async () => {
      const result = await runEvt(c.args, { env: { EVT_BROKERS: '127.0.0.1:1' } })
      expect(result.code).toBe(c.code)
      expect(result.stdout).toBe('')
      expect(result.stderr).toBe(`${c.error}\n${c.hint}\n`)
    })
  }

  it('an integer flag out of range from its environment variable says so', async () => {
    const result = await runEvt(['tail', 'orders.events'], { env: { EVT_BROKERS: '127.0.0.1:1', EVT_MAX_MESSAGES: '-3' } })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('evt: --max-messages: expected an integer >= 0, got -3 (from $EVT_MAX_MESSAGES)\n  hint: --max-messages: Stop after this many records (after filters); see evt tail --help\n')
  })

  it('a boolean flag variable that is not a boolean is refused, never read as false', async () => {
    for (const value of ['on', 'maybe']) {
      const result = await runEvt(['replay', 'orders.events', '--from', '-1', '--to-topic', 'orders.copy', '--yes'], { env: { EVT_BROKERS: '127.0.0.1:1', EVT_DRY_RUN: value } })
      expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `evt: $EVT_DRY_RUN: "${value}" is not a boolean (for --dry-run)\n  hint: set it to true, 1 or yes (or false, 0, no), or unset it\n`])
    }
    // the accepted spellings get past the check (and then fail to connect: exit 3)
    for (const value of ['YES', 'y', '0', 'false', '']) {
      const result = await runEvt(['topics', '--timeout', '2s'], { env: { EVT_BROKERS: '127.0.0.1:1', EVT_JSON: value } })
      expect([value, result.code]).toEqual([value, 3])
    }
  })

  it('an unknown command on a terminal neither prompts nor runs the closest command', () => {
    // `script` gives evt a pseudo-terminal on stdin and stdout; a prompt would wait for input until the timeout
    const run = spawnSync('script', ['-qec', `${process.execPath} bin/run.js tial orders.events`, '/dev/null'], {
      cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1', EVT_BROKERS: '127.0.0.1:1' },
    })
    expect(run.error).toBeUndefined()
    expect(run.status).toBe(127)
    expect(run.stdout.replaceAll('\r', '')).toBe('evt: unknown command "tial"\n  hint: did you mean "evt tail"? see evt --help\n')
  })
})
