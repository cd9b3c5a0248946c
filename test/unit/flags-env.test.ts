/**
 * Every flag of every command has an EVT_* variable (src/flags.ts withEnv): unique within the
 * command, the same for the same flag name across commands, derived from the name (EVT_<NAME>)
 * except the scoped names of flags that mean something else in one command, and the explicit
 * exceptions below. Walks the command classes themselves, so a new command is checked too.
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { envName, RESERVED_ENV, RESERVED_ENV_PREFIXES, withEnv } from '../../src/flags.ts'
import { Flags } from '@oclif/core'

const COMMANDS = fileURLToPath(new URL('../../src/commands', import.meta.url))

/** Variables whose names are not EVT_<FLAG>: kept from before, documented in the README. */
const EXCEPTIONS: Record<string, string> = { registry: 'EVT_SCHEMA_REGISTRY_URL' }

/**
 * Flags that mean something else in one command carry a scoped variable (EVT_<COMMAND>_<FLAG>):
 * setting EVT_<FLAG> for one command must not change what the other does.
 */
const SCOPED: Record<string, string> = {
  'trace:format': 'EVT_TRACE_FORMAT', // tree|timeline|… where tail's are pretty|json|raw
  'trace:stall-after': 'EVT_TRACE_STALL_AFTER',
  'dlq list:pattern': 'EVT_DLQ_PATTERN',
  'dlq requeue:to': 'EVT_DLQ_REQUEUE_TO', // a topic; replay's --to is a position
  'dlq requeue:group-by': 'EVT_DLQ_REQUEUE_GROUP_BY', // <dimension>=<value>; dlq inspect's is a dimension
  'groups reset:to': 'EVT_GROUPS_RESET_TO', // where a group is moved: never from a variable set for replay
  'replay clean:all': 'EVT_REPLAY_CLEAN_ALL', // removes interrupted replays: not the listing's --all
  'produce:key': 'EVT_PRODUCE_KEY', // the record's key; elsewhere a key filter
  'produce:header': 'EVT_PRODUCE_HEADER', // a header to write; elsewhere a header filter
  'produce:partition': 'EVT_PRODUCE_PARTITION', // one partition to write to; elsewhere a list to read
  'topics create:config': 'EVT_TOPIC_CONFIG', // EVT_CONFIG is the config file's path
  'lint:since': 'EVT_LINT_SINCE', // a sample's start; trace's --since is a search window
  'lint:evidence': 'EVT_LINT_EVIDENCE',
  'lint:fail-on': 'EVT_LINT_FAIL_ON', // a severity; outbox check's --fail-on lists finding kinds
  'trace:index': 'EVT_TRACE_INDEX', // the index trace looks up, beside the profile's trace.index
  // which trace index: the index commands' own settings
  'index run:store': 'EVT_INDEX_STORE',
  'index run:name': 'EVT_INDEX_NAME',
  'index status:store': 'EVT_INDEX_STORE',
  'index status:name': 'EVT_INDEX_NAME',
  'index drop:store': 'EVT_INDEX_STORE',
  'index drop:name': 'EVT_INDEX_NAME',
  // the outbox commands' settings go together, as in the profile's outbox: section (their --topic and
  // --since are the relay's topics and a window start, not trace's)
  'outbox check:db': 'EVT_OUTBOX_DB',
  'outbox check:table': 'EVT_OUTBOX_TABLE',
  'outbox check:topic-prefix': 'EVT_OUTBOX_TOPIC_PREFIX',
  'outbox check:topic': 'EVT_OUTBOX_TOPIC',
  'outbox check:aggregate-type': 'EVT_OUTBOX_AGGREGATE_TYPE',
  'outbox check:timestamp-column': 'EVT_OUTBOX_TIMESTAMP_COLUMN',
  'outbox check:grace': 'EVT_OUTBOX_GRACE',
  'outbox check:since': 'EVT_OUTBOX_SINCE',
  'outbox check:fail-on': 'EVT_OUTBOX_FAIL_ON',
  'outbox tail:db': 'EVT_OUTBOX_DB',
  'outbox tail:table': 'EVT_OUTBOX_TABLE',
  'outbox tail:topic-prefix': 'EVT_OUTBOX_TOPIC_PREFIX',
  'outbox tail:topic': 'EVT_OUTBOX_TOPIC',
  'outbox tail:aggregate-type': 'EVT_OUTBOX_AGGREGATE_TYPE',
  'outbox tail:timestamp-column': 'EVT_OUTBOX_TIMESTAMP_COLUMN',
  'outbox tail:grace': 'EVT_OUTBOX_GRACE',
  'outbox tail:since': 'EVT_OUTBOX_SINCE',
  'outbox tail:poll': 'EVT_OUTBOX_POLL',
  'outbox tail:max-rows': 'EVT_OUTBOX_MAX_ROWS',
}

type FlagDef = { env?: string; type?: string }

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    return e.isDirectory() ? commandFiles(full) : e.name.endsWith('.ts') ? [full] : []
  })
}

async function commands(): Promise<Array<{ id: string; flags: Record<string, FlagDef> }>> {
  return Promise.all(commandFiles(COMMANDS).map(async (file) => {
    const id = path.relative(COMMANDS, file).replace(/\.ts$/, '').split(path.sep).join(' ')
    const cls = (await import(pathToFileURL(file).href)).default as { flags?: Record<string, FlagDef> }
    return { id, flags: cls.flags ?? {} }
  }))
}

describe('EVT_* variables of flags', () => {
  it('envName derives EVT_<NAME> with dashes as underscores, and withEnv keeps a named variable', () => {
    expect(envName('max-messages')).toBe('EVT_MAX_MESSAGES')
    expect(envName('no-ui')).toBe('EVT_NO_UI')
    const flags = withEnv({ 'dry-run': Flags.boolean({}), registry: Flags.string({ env: 'EVT_SCHEMA_REGISTRY_URL' }) })
    expect(flags['dry-run'].env).toBe('EVT_DRY_RUN')
    expect(flags.registry.env).toBe('EVT_SCHEMA_REGISTRY_URL')
  })

  it('every flag of every command has one, unique within the command, and not a reserved name', async () => {
    const all = await commands()
    expect(all.length).toBeGreaterThanOrEqual(19)
    for (const { id, flags } of all) {
      const seen = new Map<string, string>()
      for (const [name, flag] of Object.entries(flags)) {
        expect(flag.env, `${id} --${name} has no env variable`).toMatch(/^EVT_[A-Z0-9_]+$/)
        const env = flag.env!
        expect(seen.get(env), `${id}: --${name} and --${seen.get(env)} share ${env}`).toBeUndefined()
        seen.set(env, name)
        expect(RESERVED_ENV as readonly string[], `${id} --${name}`).not.toContain(env)
        for (const prefix of RESERVED_ENV_PREFIXES) expect(env.startsWith(prefix), `${id} --${name}: ${env}`).toBe(false)
      }
    }
  })

  it('is EVT_<NAME>, the same in every command, except the explicit exceptions and scoped names', async () => {
    const byName = new Map<string, Set<string>>()
    const scopedSeen = new Set<string>()
    for (const { id, flags } of await commands()) {
      for (const [name, flag] of Object.entries(flags)) {
        const scoped = SCOPED[`${id}:${name}`]
        if (scoped) {
          expect(flag.env, `${id} --${name}`).toBe(scoped)
          scopedSeen.add(`${id}:${name}`)
          continue
        }
        expect(flag.env, `${id} --${name}`).toBe(EXCEPTIONS[name] ?? envName(name))
        byName.set(name, (byName.get(name) ?? new Set()).add(flag.env!))
      }
    }
    for (const [name, envs] of byName) expect([...envs], `--${name}`).toHaveLength(1)
    // every scoped name listed is still in use (a stale entry would hide a drift)
    expect([...scopedSeen].sort()).toEqual(Object.keys(SCOPED).sort())
  })

  it('dlq inspect still reads EVT_DLQ_OFFSET when EVT_OFFSET is not set (the flag\'s default), and shows start:end in --help', async () => {
    const { default: DlqInspect } = await import('../../src/commands/dlq/inspect.ts')
    const offset = DlqInspect.flags.offset as unknown as { default: (ctx: object) => Promise<string>; defaultHelp: (ctx: object) => Promise<string>; env: string }
    const saved = process.env.EVT_DLQ_OFFSET
    try {
      delete process.env.EVT_DLQ_OFFSET
      expect(await offset.default({})).toBe('start:end')
      process.env.EVT_DLQ_OFFSET = '-5'
      expect(await offset.default({})).toBe('-5')
      expect(await offset.defaultHelp({})).toBe('start:end')
      expect(offset.env).toBe('EVT_OFFSET')
    } finally {
      if (saved === undefined) delete process.env.EVT_DLQ_OFFSET
      else process.env.EVT_DLQ_OFFSET = saved
    }
  })

  it('the shared flags are shared: -o, -p, -n, --yes, --dry-run, --rate, --no-ui, --filter, --json keep their char and variable', async () => {
    const expected: Record<string, { char?: string; env: string }> = {
      offset: { char: 'o', env: 'EVT_OFFSET' },
      'max-messages': { char: 'n', env: 'EVT_MAX_MESSAGES' },
      yes: { char: 'y', env: 'EVT_YES' },
      'dry-run': { env: 'EVT_DRY_RUN' },
      rate: { env: 'EVT_RATE' },
      'no-ui': { env: 'EVT_NO_UI' },
      filter: { env: 'EVT_FILTER' },
      json: { env: 'EVT_JSON' },
      exit: { char: 'e', env: 'EVT_EXIT' },
    }
    let checked = 0
    for (const { id, flags } of await commands()) {
      for (const [name, want] of Object.entries(expected)) {
        const flag = flags[name] as (FlagDef & { char?: string }) | undefined
        if (!flag) continue
        checked++
        expect({ char: flag.char, env: flag.env }, `${id} --${name}`).toEqual({ char: want.char, env: want.env })
      }
      if (flags.partition && id !== 'produce') expect((flags.partition as { char?: string; env?: string }).env, id).toBe('EVT_PARTITION')
    }
    expect(checked).toBeGreaterThan(20)
  })
})
