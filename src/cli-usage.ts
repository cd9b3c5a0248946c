/**
 * evt's own form for usage errors that oclif detects before a command runs: an unknown command
 * (exit 127) and oclif's parse errors (unknown flag, missing or unexpected argument, a value not
 * among a flag's options; exit 2). Each becomes one `evt: …` line and one `  hint: …` line, as
 * every other evt error (see errors.ts). Pure functions: the oclif hook
 * (src/hooks/command-not-found.ts) and EvtCommand.catch() print what they return.
 */
import { distance } from 'fastest-levenshtein'
import { EvtError } from './errors.ts'

/** What {@link unknownCommand} needs to know about the CLI's commands. */
export interface CommandCatalog {
  /** The bin name, `evt`. */
  bin: string
  /** Every command id, oclif's form (`dlq:inspect`). */
  commandIds: readonly string[]
  /** Every topic id (`dlq`, `replay`, `profiles`): ids that have sub-commands. */
  topicIds: readonly string[]
}

/** An unknown command's two lines, without the `evt: ` / `  hint: ` prefixes (a flag before any command: exit 2, else 127). */
export interface UnknownCommand {
  /** The words the user typed that name no command, space-separated (`tial`, `dlq nope`). */
  typed: string
  /** The closest command, space-separated (`tail`, `dlq inspect`), or undefined when none is close. */
  suggestion?: string
  message: string
  hint: string
}

/**
 * Explains an unknown command. `id` is oclif's id for the words typed before the first flag,
 * joined with `:` (`tial:orders.events`, `dlq:nope`, `topics:extra`): the unknown part is the
 * shortest prefix that is neither a command nor a topic (`tial`, `dlq:nope`). The suggestion is
 * the command id closest to it by Levenshtein distance, among the sub-commands of the topic it
 * starts with when it starts with one, offered when the distance is at most 3 or under half the
 * typed length. Never prompts, never runs anything.
 */
export function unknownCommand(id: string, catalog: CommandCatalog): UnknownCommand {
  if (id.startsWith('-')) {
    return { typed: id, message: `unknown flag ${id}`, hint: `flags come after a command (${catalog.bin} <command> ${id}); see ${catalog.bin} --help` }
  }
  const words = id.split(':').filter(Boolean)
  const known = new Set([...catalog.commandIds, ...catalog.topicIds])
  let n = 1
  while (n < words.length && known.has(words.slice(0, n).join(':'))) n++
  const typedId = words.slice(0, n).join(':')
  const parent = words.slice(0, n - 1).join(':')
  const pool = parent ? catalog.commandIds.filter((c) => c.startsWith(`${parent}:`)) : catalog.commandIds
  let best: { id: string; d: number } | undefined
  for (const candidate of pool.length > 0 ? pool : catalog.commandIds) {
    // compare the typed words with as many words of the candidate (so "dlq" suggests "dlq inspect")
    const cut = candidate.split(':').slice(0, n).join(':')
    const d = distance(typedId, cut)
    if (!best || d < best.d || (d === best.d && candidate.length < best.id.length)) best = { id: candidate, d }
  }
  const typed = typedId.replaceAll(':', ' ')
  const close = best && (best.d <= 3 || best.d < typedId.length / 2) ? best.id.replaceAll(':', ' ') : undefined
  const help = parent ? `${catalog.bin} ${parent.replaceAll(':', ' ')} --help` : `${catalog.bin} --help`
  return {
    typed,
    suggestion: close,
    message: `unknown command "${typed}"`,
    hint: close ? `did you mean "${catalog.bin} ${close}"? see ${help}` : `see ${help} for the commands`,
  }
}

/** The parts of an oclif command class that {@link usageFromParseError} reads. */
export interface CommandSpec {
  /** oclif id, `dlq:inspect`. */
  id?: string
  args?: Record<string, { name?: string; description?: string; required?: boolean }>
  flags?: Record<string, { name?: string; char?: string; summary?: string; env?: string; min?: number; max?: number }>
}

/** An oclif parse error: the parser's error classes carry these fields. */
type ParseError = Error & {
  parse?: unknown
  args?: Array<{ name?: string; description?: string } | string>
  flags?: string[]
  oclif?: { exit?: number }
}

/** `<%= config.bin %> dlq inspect TOPIC`: the usage line made from the command's args. */
function usageLine(bin: string, spec: CommandSpec): string {
  const args = Object.entries(spec.args ?? {}).map(([name, a]) => (a.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
  return [bin, ...(spec.id ?? '').split(':').filter(Boolean), ...args, '[flags]'].join(' ')
}

/** Is `err` one of oclif's parse errors (thrown by this.parse())? */
export function isParseError(err: unknown): boolean {
  const e = err as ParseError
  return e instanceof Error && ('parse' in e || /^Flag --\S+ expects a value/.test(e.message) || flagParseFailure(e.message) !== undefined || (e.oclif?.exit === 2 && e.constructor.name !== 'Error'))
}

/**
 * Turns an oclif parse error into a usage EvtError (exit 2) with a one-line message and a hint:
 * missing argument (named, with its description), unexpected argument, unknown flag (with the
 * closest flag of the command when one is close), a flag value its parser refused (an integer
 * out of range or not an integer: the reason and the accepted range, see {@link flagValueError}),
 * and any other parse error's first line.
 */
export function usageFromParseError(err: Error, spec: CommandSpec, bin = 'evt', given: GivenFlags = {}): EvtError {
  const e = err as ParseError
  const help = `see ${[bin, ...(spec.id ?? '').split(':').filter(Boolean)].join(' ')} --help`
  const firstLine = (s: string) => s.replace(/^The following errors? occurred:\s*/, '').split('\n').map((l) => l.trim()).find(Boolean) ?? s
  const name = e.constructor.name
  if (name === 'RequiredArgsError' && Array.isArray(e.args)) {
    const missing = e.args.map((a) => (typeof a === 'string' ? { name: a } : a))
    const names = missing.map((a) => (a.name ?? 'arg').toUpperCase())
    const what = missing.length === 1 && missing[0]?.description ? `: ${missing[0].description.replace(/\.$/, '')}` : ''
    return new EvtError('usage', `missing argument${names.length === 1 ? '' : 's'} ${names.join(', ')}${what}`, { hint: `usage: ${usageLine(bin, spec)}; ${help}` })
  }
  if (name === 'UnexpectedArgsError' && Array.isArray(e.args)) {
    const extra = e.args.map((a) => JSON.stringify(typeof a === 'string' ? a : a.name))
    return new EvtError('usage', `unexpected argument${extra.length === 1 ? '' : 's'} ${extra.join(', ')}`, { hint: `usage: ${usageLine(bin, spec)}; ${help}` })
  }
  if (name === 'NonExistentFlagsError' && Array.isArray(e.flags)) {
    const flags = e.flags
    const known = Object.entries(spec.flags ?? {}).map(([k, f]) => `--${f.name ?? k}`)
    const first = flags[0] ?? ''
    const closest = first.startsWith('--') ? known.map((k) => ({ k, d: distance(first, k) })).sort((a, b) => a.d - b.d)[0] : undefined
    const guess = closest && closest.d <= Math.max(2, first.length / 3) ? `did you mean ${closest.k}? ` : ''
    return new EvtError('usage', `unknown flag${flags.length === 1 ? '' : 's'} ${flags.join(', ')}`, { hint: `${guess}${help}` })
  }
  const failed = flagParseFailure(err.message)
  if (failed) return flagValueError(failed.flag, failed.reason, spec, help, given)
  const needsValue = /^Flag (--\S+) expects a value/.exec(err.message)
  if (needsValue) return new EvtError('usage', `${needsValue[1]} needs a value`, { hint: help })
  const option = /^Expected (--\S+?)=(.*) to be one of: (.*)$/m.exec(err.message)
  if (option) return new EvtError('usage', `${option[1]}: ${JSON.stringify(option[2])} is not one of ${option[3].trim()}`, { hint: help })
  return new EvtError('usage', firstLine(err.message.replace(/\nSee more help with --help\s*$/, '')), { hint: help })
}

/**
 * oclif wraps what a flag's parse function throws as `Parsing --flag \n\t<reason>\nSee more help
 * with --help`: the flag and the reason, or undefined for any other message.
 */
export function flagParseFailure(message: string): { flag: string; reason: string } | undefined {
  const m = /^Parsing (--\S+)\s*\n\s*([\s\S]*?)(?:\nSee more help with --help)?\s*$/.exec(message)
  if (!m) return undefined
  return { flag: m[1], reason: m[2].split('\n').map((l) => l.trim()).find(Boolean) ?? '' }
}

/**
 * Where flag values came from, so an error can tell a value given on the command line from one
 * taken from the flag's environment variable: the command's arguments and the environment.
 */
export interface GivenFlags {
  argv?: readonly string[]
  env?: Record<string, string | undefined>
}

/** `>= 1`, `<= 9`, `from 1 to 9`, or '' for an integer flag without bounds. */
function integerRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`
  if (min !== undefined) return `>= ${min}`
  if (max !== undefined) return `<= ${max}`
  return ''
}

/**
 * The usage error of a flag value its parser refused. oclif's integer flags (`Expected an integer
 * [greater than or equal to N | less than or equal to N] but received: V`) become `--flag: expected
 * an integer >= 1, got 0`, the accepted range taken from the flag's min/max; other reasons are kept
 * as they are. A value that came from the flag's environment variable (the flag is not on the
 * command line) says so. The hint is what the flag does, then where its help is.
 */
export function flagValueError(flag: string, reason: string, spec: CommandSpec, help: string, given: GivenFlags = {}): EvtError {
  const { argv = [], env = {} } = given
  const name = flag.replace(/^--/, '')
  const def = Object.entries(spec.flags ?? {}).find(([k, f]) => (f.name ?? k) === name)?.[1]
  const onCommandLine = argv.some((a) => a === flag || a.startsWith(`${flag}=`) || (def?.char !== undefined && a.startsWith(`-${def.char}`) && !a.startsWith('--')))
  const from = def?.env && !onCommandLine && env[def.env] !== undefined ? ` (from $${def.env})` : ''
  const integer = /^Expected an integer(?: (?:greater|less) than or equal to -?\d+)? but received: ([\s\S]*)$/.exec(reason)
  let message: string
  if (integer) {
    const range = integerRange(def?.min, def?.max)
    const got = /^-?\d+$/.test(integer[1]) ? integer[1] : JSON.stringify(integer[1])
    message = `${flag}: expected an integer${range ? ` ${range}` : ''}, got ${got}${from}`
  } else {
    message = `${flag}: ${reason.replace(/^Error: /, '')}${from}`
  }
  const summary = def?.summary?.trim().replace(/\.$/, '')
  return new EvtError('usage', message, { hint: summary ? `${flag}: ${summary}; ${help}` : help })
}
