/**
 * Record filters: CEL expressions (Common Expression Language, via @marcbachmann/cel-js) and the
 * `--key <glob>` / `--header name=value` shorthands.
 *
 * A CEL filter sees:
 * - `topic` (string), `partition` (int), `offset` (int), `timestamp` (int, epoch ms)
 * - `key`, `value`: parsed JSON where the bytes are JSON, else the text, else base64 text for
 *   binary; null for no key / a tombstone
 * - `headers`: map of header name → value text (the last one wins for duplicates)
 *
 * e.g. `value.event_type == "OrderPlaced" && headers["ce_source"].startsWith("/orders")`.
 * A field that does not exist in a record makes the expression false for that record.
 *
 * `matches` runs RE2 (re2js: linear time, no backtracking), as the CEL specification says, instead
 * of the CEL library's JavaScript RegExp: `value.matches("^(a+)+$")` cannot hang evt on a long
 * value. RE2 has no backreferences and no lookaround; a literal pattern it does not accept is a
 * usage error when the filter compiles.
 *
 * A filter is bounded per record: one evaluation may take at most {@link FILTER_RECORD_BUDGET_MS}
 * (1 s). Only macros (`all`, `exists`, `exists_one`, `map`, `filter`) nested over a record's lists
 * can cost more than linear time; the clock is checked each time a macro starts, and a filter that
 * runs over its budget stops the command with a usage error (exit 2) naming the record, instead of
 * running for minutes. Record loops give the event loop a turn at least every 50 ms
 * (src/util/event-loop.ts), so Ctrl-C is observed while a slow filter runs.
 */
import { createRequire } from 'node:module'
import type * as Cel from '@marcbachmann/cel-js'
import picomatch from 'picomatch'
import { RE2JS } from 're2js'
import { headerText } from './codec/decode.ts'
import { EvtError, usageError } from './errors.ts'
import type { Decoded, DecodedRecord } from './record.ts'

/** A compiled predicate over decoded records. */
export type RecordFilter = (record: DecodedRecord) => boolean

/** The name `matches` calls are rewritten to: RE2 instead of the library's RegExp. */
const RE2_MATCHES = 'evtMatchesRe2'
const compiled = new Map<string, RE2JS>()

/**
 * A pattern compiled by RE2 (cached: filters run once per record).
 * @throws Error (re2js's syntax error) for a pattern RE2 does not accept.
 */
export function re2Pattern(pattern: string): RE2JS {
  let re = compiled.get(pattern)
  if (!re) {
    re = RE2JS.compile(pattern)
    if (compiled.size >= 256) compiled.clear()
    compiled.set(pattern, re)
  }
  return re
}

const require = createRequire(import.meta.url)
// cel-js (an ES module) is loaded when the first expression is compiled, not at start-up: through
// require() where Node loads ES modules synchronously (Node >= 22.12), else imported here.
let celModule: typeof Cel | undefined = process.features.require_module ? undefined : await import('@marcbachmann/cel-js')
let celEnvironment: Cel.Environment | undefined
/** The CEL environment of every filter (RE2 `matches`), built on first use. */
function environment(): Cel.Environment {
  celModule ??= require('@marcbachmann/cel-js') as typeof Cel
  return (celEnvironment ??= makeEnvironment(celModule.Environment))
}

const makeEnvironment = (Environment: typeof Cel.Environment): Cel.Environment => new Environment({ unlistedVariablesAreDyn: true }).registerFunction(`string.${RE2_MATCHES}(string): bool`, (text: string, pattern: string) => {
  let re: RE2JS
  try {
    re = re2Pattern(pattern)
  } catch (err) {
    throw new Error(`regular expression ${JSON.stringify(pattern)} is not RE2 syntax: ${(err as Error).message}`)
  }
  return re.matcher(text).find()
})

interface CelNode {
  op?: string
  args?: unknown
  meta?: { alternate?: CelNode & { meta?: { evaluate?: unknown }; setMeta?: (key: string, value: unknown) => unknown } }
}

/** The most time (ms) one filter evaluation may take on one record. */
export const FILTER_RECORD_BUDGET_MS = 1000

/** The deadline (performance.now() ms) of the evaluation running now; Infinity outside one. */
let evaluationDeadline = Infinity

/** Thrown inside an evaluation that ran over its budget; turned into a usage error by {@link celPredicate}. */
class FilterBudgetExceeded extends Error {}

/**
 * Makes every macro of a parsed program (the library expands them at parse time into
 * `comprehension` nodes, reached through `meta.alternate`) check the evaluation deadline when it
 * starts. Relies on the library's node API (`meta`, `setMeta('evaluate', …)`), pinned in
 * package.json and covered by test/unit/filter-budget.test.ts.
 */
function guardComprehensions(node: CelNode): void {
  const alternate = node.meta?.alternate
  if (alternate?.op === 'comprehension' && alternate.setMeta && typeof alternate.meta?.evaluate === 'function') {
    const evaluate = alternate.meta.evaluate as (this: unknown, ...args: unknown[]) => unknown
    if (!(evaluate as { guarded?: boolean }).guarded) {
      const guarded = function (this: unknown, ...args: unknown[]): unknown {
        if (performance.now() > evaluationDeadline) throw new FilterBudgetExceeded('over budget')
        return evaluate.apply(this, args)
      }
      ;(guarded as { guarded?: boolean }).guarded = true
      alternate.setMeta('evaluate', guarded)
    }
  }
}

/**
 * Parses a CEL expression with `matches` running on RE2 (see the module doc): every
 * `<string>.matches(<pattern>)` call in the syntax tree (macro bodies included) is pointed at the
 * RE2 function, and literal patterns are compiled at once.
 * @throws Error from the parser; EvtError (usage, exit 2) for a literal pattern RE2 does not accept.
 */
export function parseCel(expression: string, flag = '--filter'): (context: Record<string, unknown>) => unknown {
  const program = environment().parse(expression)
  const seen = new Set<object>()
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return
    seen.add(node)
    const n = node as CelNode
    guardComprehensions(n)
    if (n.meta?.alternate) visit(n.meta.alternate)
    if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'matches') {
      n.args[0] = RE2_MATCHES
      const pattern = (n.args[2] as CelNode[] | undefined)?.[0]
      if (pattern?.op === 'value' && typeof pattern.args === 'string') {
        try {
          re2Pattern(pattern.args)
        } catch (err) {
          throw usageError(`${flag}: the regular expression ${JSON.stringify(pattern.args)} is not supported: ${(err as Error).message}`, 'filters use RE2 syntax (no backreferences, no lookahead or lookbehind): https://github.com/google/re2/wiki/Syntax')
        }
      }
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'input') visit(value)
  }
  visit(program.ast)
  return program as unknown as (context: Record<string, unknown>) => unknown
}

function celValue(decoded: Decoded, bytes: Buffer | null): unknown {
  if (decoded.kind === 'null') return null
  if (decoded.kind === 'binary') return (bytes ?? Buffer.alloc(0)).toString('base64')
  return decoded.value
}

/** The variables a CEL filter sees for one record (see the module doc). */
export function celContext(record: DecodedRecord): Record<string, unknown> {
  const headers: Record<string, string | null> = {}
  for (const h of record.headers) headers[h.key] = headerText(h.value).value
  return {
    topic: record.topic,
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: record.timestamp,
    key: celValue(record.keyDecoded, record.key),
    value: celValue(record.valueDecoded, record.value),
    headers,
  }
}

/**
 * Compiles a CEL expression. @throws EvtError (usage, exit 2) with the parser's message, which
 * points at the position of the problem.
 */
export function compileCel(expression: string, flag = '--filter', onWarning?: (message: string) => void): RecordFilter {
  let program: (context: Record<string, unknown>) => unknown
  try {
    program = parseCel(expression, flag)
  } catch (err) {
    if (err instanceof EvtError) throw err
    throw usageError(`${flag} does not compile: ${(err as Error).message}`, 'CEL syntax: https://github.com/google/cel-spec/blob/master/doc/langdef.md; e.g. value.event_type == "OrderPlaced" && partition == 2')
  }
  return celPredicate(program, celContext, flag, onWarning)
}

/**
 * Runs a compiled CEL program as a predicate. A record on which the expression fails is left
 * out; a missing field is normal (many records lack it), any other failure (an unknown variable,
 * comparing a string with a number, …) is reported once through `onWarning`, so a filter that
 * silently matches nothing does not go unnoticed.
 * @throws EvtError (usage, exit 2) when one evaluation runs over {@link FILTER_RECORD_BUDGET_MS}.
 */
export function celPredicate<T extends unknown[]>(program: (context: Record<string, unknown>) => unknown, context: (...args: T) => Record<string, unknown>, flag: string, onWarning?: (message: string) => void): (...args: T) => boolean {
  const warned = new Set<string>()
  return (...args: T) => {
    try {
      evaluationDeadline = performance.now() + FILTER_RECORD_BUDGET_MS
      return program(context(...args)) === true
    } catch (err) {
      if (err instanceof FilterBudgetExceeded) throw overBudget(flag, args[0])
      const message = ((err as Error).message ?? String(err)).split('\n')[0]
      if (onWarning && !/^No such key/.test(message) && !warned.has(message)) {
        warned.add(message)
        onWarning(`${flag} fails on some records (left out): ${message}`)
      }
      return false
    } finally {
      evaluationDeadline = Infinity
    }
  }
}

function overBudget(flag: string, record: unknown): EvtError {
  const r = record as Partial<DecodedRecord> | undefined
  const where = r && typeof r.topic === 'string' ? ` on ${r.topic}/${r.partition}@${r.offset}` : ''
  return usageError(`${flag} took more than ${FILTER_RECORD_BUDGET_MS / 1000} s on one record${where}: macros nested over a record's lists (all, exists, map, filter) cost their lengths multiplied`, 'make the filter cheaper per record: avoid a macro inside another over the same list, or narrow the records first with --key, --header or a partition/offset range')
}

/** `--key <glob>`: the key as text (base64 for binary) matches the glob (`*`, `?`, `[a-z]`, `{a,b}`). */
export function keyGlob(glob: string): RecordFilter {
  // a key is not a path: '/' (in keys like tenant/42, and in base64) is an ordinary character for
  // `*` and `?`, so it is swapped for NUL, which a text key never contains, before matching
  const match = picomatch(glob.replaceAll('/', '\0'), { dot: true })
  return (record) => {
    if (record.key === null) return false
    const d = record.keyDecoded as Decoded & { text?: string }
    const text = d.kind === 'binary' ? record.key.toString('base64') : (d.text ?? (typeof d.value === 'string' ? d.value : JSON.stringify(d.value)))
    return match(text.replaceAll('/', '\0'))
  }
}

/**
 * `--header name=value`: some header of that name has that value (text); `--header name`
 * alone: the header is present. @throws EvtError (usage) on an empty name.
 */
export function headerMatch(spec: string): RecordFilter {
  const eq = spec.indexOf('=')
  const name = eq === -1 ? spec : spec.slice(0, eq)
  const value = eq === -1 ? undefined : spec.slice(eq + 1)
  if (!name) throw usageError(`--header "${spec}" has no header name`, 'write --header name=value or --header name')
  return (record) => record.headers.some((h) => h.key === name && (value === undefined || (h.value !== null && h.value.toString('utf8') === value)))
}

/** All filters must pass; no filters → undefined (everything passes, no cost). */
export function combineFilters(filters: RecordFilter[]): RecordFilter | undefined {
  if (filters.length === 0) return undefined
  if (filters.length === 1) return filters[0]
  return (record) => filters.every((f) => f(record))
}
