/**
 * Every `--help` example (the `examples` of each command in oclif.manifest.json) and every README
 * shell example (a line starting with `evt ` in a ```sh block) runs against the demo shop's data
 * (src/demo/shop.ts, as `npm run demo -- --outbox` writes it: orders.events, payments.events-dlt, …,
 * the loyalty service's rows in the local PostgreSQL outbox and their records on outbox.event.customer, and with
 * the local schema registry the Avro `orders` and Protobuf `payments` topics and their subjects
 * `orders-value` and `payments-value`; examples on those that give no --registry get it from
 * EVT_SCHEMA_REGISTRY_URL, see ADAPTATIONS), through
 * bash (pipes, quotes and redirects as written) with `evt` on PATH. Each must exit as expected
 * (0 unless listed) and print something on stdout, unless listed in MAY_BE_EMPTY, and, where
 * listed in PRINTS, what it promises.
 *
 * What is changed before running is listed in ADAPTATIONS (each rule with its reason); the test
 * title of an adapted example names the rules. Examples that are not run at all are in NOT_RUN,
 * with the reason and the test that covers them instead.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runShop, type ShopResult } from '../../src/demo/shop.ts'
import { BROKERS, createTopic, eventually, ROOT, runEvt, withTestAdmin } from '../support/kafka.ts'
import { POSTGRES_URL } from '../support/outbox.ts'
import { completionCacheFile } from '../../src/services/complete.ts'
import { testPostgres } from '../support/postgres.ts'

/** The local schema registry (Apicurio's Confluent-compatible API), where the demo registers its schemas. */
const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7'

/** Every example, once, in the order found (help examples first, then the README). */
function collectExamples(): Array<{ source: string; line: string }> {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { examples?: Array<string | { command: string }> }> }
  const out: Array<{ source: string; line: string }> = []
  for (const [id, command] of Object.entries(manifest.commands)) {
    for (const e of command.examples ?? []) {
      const line = (typeof e === 'string' ? e : e.command).replaceAll('<%= config.bin %>', 'evt').replaceAll('<%= command.id %>', id.replaceAll(':', ' '))
      out.push({ source: `evt ${id.replaceAll(':', ' ')} --help`, line })
    }
  }
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const raw of block[1]!.split('\n')) if (raw.startsWith('evt ')) out.push({ source: 'README', line: raw })
  }
  const seen = new Set<string>()
  return out.filter((e) => {
    const key = e.line.replace(/\s+#.*$/, '').trim()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Examples not run here, and why (what covers them instead). */
const NOT_RUN: Array<{ match: RegExp; reason: string }> = [
  { match: /-t 'shop\.\*'/, reason: 'an estate without envelopes (OpenTelemetry traceparent, Spring __TypeId__), which the demo does not write: test/integration/trace-real-estates.test.ts writes such records and runs this exact command' },
  { match: /--profile (mtls|oauth)\b/, reason: 'needs the mTLS / OAUTHBEARER listeners and client material: test/integration/security.test.ts runs these profiles' },
]

/** A rewrite applied before running, and why. */
interface Adaptation {
  name: string
  applies: (line: string) => boolean
  rewrite: (line: string, ctx: Context) => string
}

interface Context {
  healthy: string
  replayId: string
  /** The latest schema id of the demo's orders-value. */
  ordersSchemaId: number
}

const ADAPTATIONS: Adaptation[] = [
  {
    name: 'the placeholder request id req_abc123 is a healthy request of the demo run',
    applies: (l) => l.includes('req_abc123'),
    rewrite: (l, ctx) => l.replaceAll('req_abc123', ctx.healthy),
  },
  {
    name: 'the placeholder replay id is a copy replay made for this test',
    applies: (l) => l.includes('rp-20261129-141500-3fa2'),
    rewrite: (l, ctx) => l.replaceAll('rp-20261129-141500-3fa2', ctx.replayId),
  },
  {
    name: 'tail that follows forever gets -e (stop at the end offsets taken at start)',
    applies: (l) => /^evt tail /.test(l) && !/\s-e\b|\s-n\b/.test(l) && !/-o\s+\S+:\S+/.test(l.replace(/T\d\d:\d\d(:\d\d)?/g, '')),
    rewrite: (l) => l.replace(/^(evt tail [^|#>]*?)(\s*(\||#|>|$))/, '$1 -e$2'),
  },
  {
    name: 'tail without -o starts at the end (new records only), so with -e it also gets -o -3: the last 3 records of each partition',
    applies: (l) => /^evt tail /.test(l) && !/\s-o\s/.test(l) && !/\s-e\b|\s-n\b/.test(l),
    rewrite: (l) => l.replace(/^evt tail (\S+)/, 'evt tail $1 -o -3'),
  },
  {
    name: 'trace --follow runs for 8 s and is stopped with SIGTERM (exit 143), the tree printed',
    applies: (l) => /^evt trace .*--follow/.test(l),
    rewrite: (l) => `timeout --preserve-status -s TERM 8 ${l}`,
  },
  {
    name: 'outbox tail that follows forever gets -n 1 (stop after the first row that landed), and --since 1h where it has none (the demo\'s rows of the last hour)',
    applies: (l) => /^evt outbox tail /.test(l) && !/\s-n\b/.test(l),
    rewrite: (l) => l.replace(/^(evt outbox tail [^|#>]*?)(\s*(\||#|>|$))/, (_, cmd: string, rest: string) => `${cmd}${/--since\s/.test(cmd) ? '' : ' --since 1h'} -n 1${rest}`),
  },
  {
    name: 'an index worker without --exit runs until stopped: it gets --exit (stop once caught up)',
    applies: (l) => /^evt index run\b/.test(l) && !/\s(--exit|-e)\b/.test(l),
    rewrite: (l) => l.replace(/^(evt index run[^|#>]*?)(\s*(\||#|>|$))/, '$1 --exit$2'),
  },
  {
    name: 'writes that need --yes run with --dry-run instead (the plan is printed, nothing is written)',
    applies: (l) => /\s--yes\b/.test(l) && !/^evt replay --resume/.test(l),
    rewrite: (l) => l.replace(/\s--yes\b/, ' --dry-run'),
  },
  {
    name: 'produce writes to orders.scratch instead of the demo\'s orders.events (the demo\'s consumers must not meet these records, zstd ones included, when it runs again)',
    applies: (l) => /(^|\| )evt produce orders\.events\b/.test(l),
    rewrite: (l) => l.replace(/(^|\| )evt produce orders\.events\b/, '$1evt produce orders.scratch'),
  },
  {
    name: 'the registry, where the example gives none, comes from EVT_SCHEMA_REGISTRY_URL (the local one, where the demo registers its schemas)',
    applies: (l) => /^evt (schemas\b|(tail|produce) (orders|payments)\s)/.test(l) && !/--registry\s/.test(l),
    rewrite: (l) => `export EVT_SCHEMA_REGISTRY_URL=${REGISTRY}; ${l}`,
  },
  {
    name: 'the placeholder schema id 42 is the latest id of the demo\'s orders-value',
    applies: (l) => /--value-schema-id 42\b/.test(l),
    rewrite: (l, ctx) => l.replace(/--value-schema-id 42\b/, `--value-schema-id ${ctx.ordersSchemaId}`),
  },
  {
    name: 'a registry that does not exist here (Confluent\'s default http://localhost:8081) is the local one',
    applies: (l) => /--registry http:\/\/localhost:8081(?=\s|$)/.test(l),
    rewrite: (l) => l.replace(/--registry http:\/\/localhost:8081(?=\s|$)/, `--registry ${REGISTRY}`),
  },
  {
    name: 'a broker that does not exist here (kafka-1:9092) is the local one',
    applies: (l) => l.includes('kafka-1:9092'),
    rewrite: (l) => l.replaceAll('kafka-1:9092', BROKERS[0]!),
  },
  {
    name: 'output redirected to a file is printed from the file too',
    applies: (l) => /\s>\s*[\w-]+\.[a-z]+(?=\s|$)/.test(l),
    rewrite: (l) => l.replace(/\s>\s*([\w-]+\.[a-z]+)(?=\s|$)/, ' > $1 && cat $1'),
  },
]

/** Exit codes other than 0, by adaptation or example. */
const EXPECTED_CODE: Array<{ match: RegExp; code: number; reason: string }> = [
  { match: /--follow/, code: 143, reason: 'stopped with SIGTERM after 8 s' },
  { match: /^evt lint .*--fail-on error/, code: 5, reason: 'the demo publishes the command SendInvoiceEmail on invoices.events: an error-level finding (command-on-event-topic)' },
]

/** What examples print on the demo's data: the records decoded through the registry, the subjects, the writes. */
const PRINTS: Array<{ match: RegExp; stdout: RegExp; reason: string }> = [
  { match: /^evt tail orders -o start -e --registry/, stdout: /^\{"topic":"orders",.*"value":\{"order_id":"ord_[^"]+","customer_id":"cus_[^"]+","items":\[.*\],"total":"\d+\.\d\d","currency":"EUR","placed_at":"[^"]+Z","shipping_country":"[A-Z]{2}"\},"valueEncoding":"avro","valueSchemaId":\d+/m, reason: 'Avro orders, decoded (JSON lines: stdout is no terminal)' },
  { match: /^evt tail payments -o -3 -e -f json --registry/, stdout: /^\{"topic":"payments",.*"value":\{"paymentId":"pay_[^"]+","orderId":"ord_[^"]+","amountCents":"\d+","currency":"EUR","method":"CARD","capturedAt":"[^"]+Z","pspReference":"psp_[^"]+"\},"valueEncoding":"protobuf","valueSchemaId":\d+/m, reason: 'Protobuf payments as proto3 JSON' },
  { match: /^evt tail orders -o -5 -e -f json \| jq/, stdout: /"v": \{\n\s+"order_id": "ord_[\s\S]*"id": \d+\n\}/, reason: 'decoded value and its schema id' },
  { match: /^evt schemas( --registry \S+)?$/, stdout: /^orders-value\s+avro\s+1-2\s+2\s+\d+$[\s\S]*^payments-value\s+protobuf\s+1\s+1\s+\d+$/m, reason: 'the demo\'s subjects' },
  { match: /^evt schemas orders-value(:2)?( |$)/, stdout: /shipping_country/, reason: 'version 2 (the latest) has shipping_country' },
  { match: /^evt lint invoices\.events payments\.events --evidence 1/, stdout: /^invoices\.events\s+command-on-event-topic\s+error\s+SendInvoiceEmail\s+\d+\s+invoices\.events\/\d+@\d+$[\s\S]*^payments\.events\s+duplicate-event-id\s+warning\s+PaymentCaptured\s+\d+\s+payments\.events\/\d+@\d+\s+event id "[^"]+" also at payments\.events\/\d+@\d+$/m, reason: 'the demo\'s disguised command and duplicate delivery, with their evidence' },
  { match: /^evt lint invoices\.events payments\.events -n 500 --json$/, stdout: /^\{"topics":\["invoices\.events","payments\.events"\],"window":\{"since":null,"lastPerPartition":500\},.*"findings":\[\{"rule":"command-on-event-topic","severity":"error","topic":"invoices\.events","subject":"SendInvoiceEmail",/, reason: 'one JSON document, the disguised command first' },
  { match: /^evt lint invoices\.events -n 500 --json \| jq/, stdout: /^\{"rule":"command-on-event-topic","subject":"SendInvoiceEmail","count":\d+\}$/m, reason: 'the disguised command as JSON' },
  { match: /^evt lint --explain command-on-event-topic/, stdout: /^command-on-event-topic \(error\): an imperative type \(a command\) on an events topic$/m, reason: 'the rule, its severity and its explanation' },
  { match: /^evt produce orders /, stdout: /^orders\/\d+@\d+$/m, reason: 'one Avro record written per input line' },
]

/** Examples whose promise holds with no output on the demo's data (each with why). */
const MAY_BE_EMPTY: Array<{ match: RegExp; reason: string }> = [
  { match: /@2026-11-28T14:00:00Z:2026-11-28T15:00:00Z/, reason: 'a fixed time window: the demo data is written now' },
  { match: /-o 100:200 -p 2/, reason: 'offsets 100..199: the demo writes fewer records per partition' },
  { match: /select\(\.lag > 0\)/, reason: 'the demo\'s groups have consumed everything' },
  { match: /select\(\.state == "interrupted"\)/, reason: 'no replay was interrupted' },
  { match: /select\(\.requeued\)/, reason: 'the demo requeues nothing: test/integration/dlq-ledger.test.ts checks "requeued" in dlq inspect --json after requeues' },
  { match: /^evt profiles use /, reason: 'says nothing on stdout: the new default goes to the config file (checked by profiles show)' },
]

describe('every --help and README example on the demo data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evt-examples-'))
  const bin = join(dir, 'bin')
  const env: Record<string, string> = {}
  const ctx: Context = { healthy: '', replayId: '', ordersSchemaId: 0 }
  let shop: ShopResult

  beforeAll(async () => {
    // the demo's data, as `npm run demo` writes it (unprefixed topics and groups; rerunnable: it adds requests)
    shop = await runShop({ brokers: BROKERS, durationMs: 30_000, registry: REGISTRY, outbox: { db: POSTGRES_URL } })
    expect(shop.errors).toEqual([])
    expect(shop.healthy.length).toBeGreaterThan(0)
    ctx.healthy = shop.healthy[0]!
    ctx.ordersSchemaId = shop.schemas!.orders.id
    // the local PostgreSQL (npm run kafka:up -- --postgres) for the trace index examples that name it
    if (collectExamples().some((e) => e.line.includes('postgres://postgres@127.0.0.1:15432/'))) await testPostgres()
    // topics the examples write to or read from that the demo does not create
    for (const topic of ['orders.copy', 'orders.scratch', 'customers.state', 'payments.retry']) await createTopic(topic, 3).catch(() => topic)
    // as the README's `evt topics create payments.incident-1234 -p 3 -c retention.ms=86400000` leaves it (made afresh: a rerun finds it as this run made it)
    await withTestAdmin((admin) => admin.deleteTopics({ topics: ['payments.incident-1234'] })).catch(() => undefined)
    await eventually(async () => !(await withTestAdmin((admin) => admin.listTopics())).includes('payments.incident-1234'), 15_000)
    await createTopic('payments.incident-1234', 3, [{ name: 'retention.ms', value: '86400000' }])
    // files the examples name
    writeFileSync(join(dir, 'event.json'), '{"event_type":"OrderPlaced","aggregate_id":"order-1"}\n')
    writeFileSync(join(dir, 'events.ndjson'), '{"event_type":"OrderPlaced","aggregate_id":"order-2"}\n{"event_type":"OrderPlaced","aggregate_id":"order-3"}\n')
    // orders in the shape of the demo's orders-value (Avro, version 2), as `evt tail -f json` shows them
    writeFileSync(join(dir, 'orders.ndjson'), '{"order_id":"ord_2","customer_id":"cus_2","items":[{"sku":"MUG-CERAMIC-350","quantity":2,"unit_price":"12.90"}],"total":"25.80","currency":"EUR","placed_at":"2026-11-28T14:00:00Z","shipping_country":"DE"}\n{"order_id":"ord_3","customer_id":"cus_3","total":"5.90","placed_at":"2026-11-28T14:01:00.250Z"}\n')
    // the profile the examples name (prod), pointing at the local broker; replay state files kept here
    writeFileSync(join(dir, 'config.yaml'), `default: prod\nprofiles:\n  prod:\n    brokers: [${BROKERS[0]}]\n`)
    Object.assign(env, { EVT_CONFIG: join(dir, 'config.yaml'), XDG_STATE_HOME: join(dir, 'state'), NO_COLOR: '1', EVT_BROKERS: BROKERS.join(','), PATH: `${bin}:${ROOT}/node_modules/.bin:${process.env.PATH}` })
    // `evt` on PATH
    spawnSync('mkdir', ['-p', bin])
    writeFileSync(join(bin, 'evt'), `#!/bin/sh\nexec "${process.execPath}" "${ROOT}/bin/run.js" "$@"\n`)
    chmodSync(join(bin, 'evt'), 0o755)
    // a finished copy replay, for the examples that name a replay id
    const copy = await runEvt(['replay', 'payments.events', '--from', 'start', '--to-topic', 'payments.incident-1234', '--yes'], { env })
    expect(copy.code).toBe(0)
    ctx.replayId = /replay id (rp-\S+)/.exec(copy.stderr)![1]!
  }, 180_000)

  for (const example of collectExamples()) {
    const skipped = NOT_RUN.find((n) => n.match.test(example.line))
    if (skipped) {
      it.skip(`${example.line}  (${example.source}; not run: ${skipped.reason})`, () => {})
      continue
    }
    const adaptations = ADAPTATIONS.filter((a) => a.applies(example.line))
    const title = `${example.line}  (${example.source}${adaptations.length ? `; adapted: ${adaptations.map((a) => a.name).join('; ')}` : ''})`
    it(title, () => {
      let line = example.line
      for (const a of adaptations) line = a.rewrite(line, ctx)
      const run = spawnSync('bash', ['-o', 'pipefail', '-c', line], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 90_000, input: '', maxBuffer: 256 * 1024 * 1024 })
      const code = EXPECTED_CODE.find((c) => c.match.test(line))?.code ?? 0
      const detail = `$ ${line}\nexit ${run.status}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`
      expect(run.status, detail).toBe(code)
      if (!MAY_BE_EMPTY.some((m) => m.match.test(example.line))) expect(run.stdout.trim().length, detail).toBeGreaterThan(0)
      for (const p of PRINTS.filter((p) => p.match.test(example.line.replace(/\s+#.*$/, '')))) expect(run.stdout, `${p.reason}\n${detail}`).toMatch(p.stdout)
      expect(run.stderr, detail).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m) // no stack trace
    }, 120_000)
  }
  it('shell completion: evt __complete lists the demo\'s topics and groups from the cluster, cached for 60 s, and the bash snippet offers them', async () => {
    const lines = (out: string) => out.split('\n').filter(Boolean)
    const topics = await runEvt(['__complete', 'topics'], { env })
    expect(topics.code, topics.stderr).toBe(0)
    expect(lines(topics.stdout)).toEqual(expect.arrayContaining(Object.values(shop.topics)))
    expect(lines(topics.stdout).filter((t) => t.startsWith('__') || t.endsWith('.evt-requeued'))).toEqual([])
    const groups = await runEvt(['__complete', 'groups'], { env })
    expect(groups.code, groups.stderr).toBe(0)
    expect(lines(groups.stdout)).toEqual(expect.arrayContaining(Object.values(shop.groups)))
    expect(lines(groups.stdout).filter((g) => g.startsWith('_evt-'))).toEqual([])

    // the second call within 60 s answers from the cache file: what the file says is what is printed
    const file = completionCacheFile('topics', BROKERS, { XDG_STATE_HOME: env.XDG_STATE_HOME })
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { v: number; at: number; names: string[] }
    expect(cached.names).toEqual(lines(topics.stdout))
    writeFileSync(file, JSON.stringify({ ...cached, names: ['only.in.the.cache'] }))
    expect(lines((await runEvt(['__complete', 'topics'], { env })).stdout)).toEqual(['only.in.the.cache'])
    // older than 60 s: asked again
    writeFileSync(file, JSON.stringify({ ...cached, at: Date.now() - 61_000, names: ['only.in.the.cache'] }))
    expect(lines((await runEvt(['__complete', 'topics'], { env })).stdout)).toEqual(expect.arrayContaining(Object.values(shop.topics)))

    // the bash snippet, as a shell runs it on Tab
    const complete = (words: string[]) => spawnSync('bash', ['-c', `eval "$(evt __complete bash)"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _evt_names; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
    const dlq = complete(['evt', 'dlq', 'inspect', 'payments.'])
    expect(lines(dlq.stdout), dlq.stderr).toEqual(expect.arrayContaining([shop.topics.payments, shop.topics.paymentsDlt]))
    expect(lines(dlq.stdout).every((t) => t.startsWith('payments.')), dlq.stdout).toBe(true)
    const reset = complete(['evt', 'groups', 'reset', 'ship'])
    expect(lines(reset.stdout), reset.stderr).toEqual([shop.groups.shipping])
    const byFlag = complete(['evt', 'trace', 'req_1', '-t', 'orders.ev'])
    expect(lines(byFlag.stdout), byFlag.stderr).toEqual([shop.topics.orders])
  }, 120_000)
})
