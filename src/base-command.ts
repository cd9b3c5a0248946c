/**
 * The base of every evt command: resolves the connection, opens the run's Kafka session (closed
 * when the command ends), and owns the single catch() that turns any error into one message on
 * stderr and a documented exit code (see errors.ts). Everything it prints on stderr (errors,
 * hints, causes, warnings, notes) and the JSON error goes through redact() (src/redact.ts).
 */
import { Command, Errors } from '@oclif/core'
import { resolveConnection, type Connection } from './config/connection.ts'
import { openSession, type KafkaSession } from './kafka/session.ts'
import { EvtError, ExitCode, isKafkaClientError, mapKafkaError, usageError } from './errors.ts'
import { badBooleanEnv } from './flags.ts'
import { redact } from './redact.ts'
import { isParseError, usageFromParseError } from './cli-usage.ts'
import { confirmWrite } from './ui/confirm.ts'
import { startProgress, type ProgressReporter } from './ui/progress.ts'

/**
 * Ctrl-C (and SIGTERM, which bin/run.js passes on as SIGINT with 'SIGTERM' as its argument) as an
 * AbortSignal: see {@link EvtCommand.interruptSignal}.
 */
export interface Interrupt {
  /** Aborted on Ctrl-C/SIGTERM, or by {@link Interrupt.abort}. */
  readonly signal: AbortSignal
  /** Aborts the signal without a Ctrl-C (a closed pipe, a timer, the live view's quit key). */
  abort(): void
  /** True once a Ctrl-C or SIGTERM arrived (false when only abort() was called). */
  readonly interrupted: boolean
}

/** The flags of a planned write (`writeFlags()` and `jsonFlag` in src/flags.ts). */
export interface WriteFlagValues {
  json: boolean
  yes: boolean
  'dry-run': boolean
}

/**
 * One planned write for {@link EvtCommand.plannedWrite}: the plan, how to show it, what refuses it,
 * the question, the write itself and how to show its result.
 */
export interface PlannedWrite<P, R> {
  plan: P
  /** The plan as text (with --json the plan is printed as {"plan": …}). */
  render: (plan: P) => string
  /** Throws an EvtError (refused, exit 6) when the plan must not be carried out; runs before --dry-run stops. */
  refuse?: (plan: P) => void
  /** After --dry-run: true, or a note for stderr (not shown with --json), when there is nothing to write; may throw. */
  nothingToDo?: () => boolean | string
  /** The confirmation question (asked on a terminal; without one --yes is needed). */
  question: string
  /** Carries out the write. Errors propagate (mapped by catch()). */
  execute: () => Promise<R>
  /** The result: `json` is printed with --json (one line), `text` otherwise. */
  result: (r: R) => { json: unknown; text: string }
}

/** The base of every evt command. Commands that talk to Kafka spread `connectionFlags` into their flags. */
export abstract class EvtCommand extends Command {
  /** Refuses a boolean flag's variable that oclif would silently read as false (`EVT_DRY_RUN=on`). @throws EvtError usage (2). */
  override async init(): Promise<void> {
    await super.init()
    const bad = badBooleanEnv((this.ctor as { flags?: Record<string, { type?: string; env?: string }> }).flags ?? {})
    if (bad) throw usageError(`$${bad.variable}: "${bad.value}" is not a boolean (for --${bad.flag})`, `set it to true, 1 or yes (or false, 0, no), or unset it`)
  }

  private verbose = false
  private wantsJson = false
  private readonly sessions: Array<{ session: KafkaSession; stop: () => void }> = []
  private readonly warned = new Set<string>()
  private readonly cleanups: Array<() => void> = []

  /**
   * Resolves the connection from the parsed shared flags (flag > env > profile > default).
   * @throws EvtError usage / not-found for a bad profile or broker list.
   */
  protected connection(flags: { brokers?: string; profile?: string; registry?: string; timeout: number; verbose?: boolean }): Connection {
    this.verbose = Boolean(flags.verbose)
    return resolveConnection({ brokers: flags.brokers, profile: flags.profile, registry: flags.registry, timeoutMs: flags.timeout, verbose: flags.verbose, warn: this.warning })
  }

  /**
   * The run's Kafka session on the connection resolved from the flags (see {@link EvtCommand.connection}).
   * Clients connect on first use; the session is closed when the command ends (bounded: a dead
   * broker cannot make that hang).
   * @throws EvtError usage / not-found for a bad profile or broker list.
   */
  protected session(flags: { brokers?: string; profile?: string; registry?: string; timeout: number; verbose?: boolean }): KafkaSession {
    const interrupt = new AbortController()
    const session = openSession(this.connection(flags), undefined, { signal: interrupt.signal })
    // Ctrl-C (and SIGTERM, which bin/run.js passes on as SIGINT with 'SIGTERM' as its argument)
    // ends a connect in progress at once: the probe of a frozen broker would otherwise wait out
    // --timeout. Otherwise the command's own handler acts; a command without one ends as it
    // would without this listener (exit 130, or 143 for SIGTERM).
    const onSignal = (signal?: unknown): void => {
      if (session.connecting) interrupt.abort()
      else if (process.listenerCount('SIGINT') === 1) process.exit(signal === 'SIGTERM' ? 143 : ExitCode.Interrupted)
    }
    process.on('SIGINT', onSignal)
    this.sessions.push({ session, stop: () => process.removeListener('SIGINT', onSignal) })
    return session
  }

  /**
   * Whether to show the Ink live view (or browser) rather than plain output: stdout and stdin are
   * terminals, CI is unset, and no plain output was asked for (--no-ui, --json, -f/--format other
   * than `uiFormat`, --template), and the read is not `bounded` (-e, -n, a closed range: those print
   * plainly so every record stays in the terminal's scrollback).
   */
  protected liveView(flags: { 'no-ui'?: boolean; json?: boolean; format?: string; template?: string }, options: { bounded?: boolean; uiFormat?: string } = {}): boolean {
    if (!process.stdout.isTTY || !process.stdin.isTTY || process.env.CI) return false
    if (flags['no-ui'] || flags.json || flags.template || options.bounded) return false
    return flags.format === undefined || flags.format === options.uiFormat
  }

  /**
   * The output format from `--json` and `-f/--format`: `-f json` and `--json` are the same. Without
   * either, `tty` on a terminal and `piped` otherwise.
   * @throws EvtError usage (exit 2) for --json with another -f.
   */
  protected outputFormat<F extends string>(flags: { json?: boolean; format?: F }, defaults: { tty: F; piped: F }): F | 'json' {
    if (flags.json && flags.format && flags.format !== 'json') throw usageError(`--json and -f ${flags.format} cannot be combined`, '--json is -f json: use one of them')
    if (flags.json) return 'json'
    return flags.format ?? (process.stdout.isTTY ? defaults.tty : defaults.piped)
  }

  /**
   * Ctrl-C and SIGTERM into an AbortSignal, for the rest of the run (the listener is removed in
   * finally()). With `secondExits`, a second Ctrl-C ends the process at once (exit 130).
   */
  protected interruptSignal(options: { secondExits?: boolean } = {}): Interrupt {
    const controller = new AbortController()
    let interrupted = false
    const onSignal = (): void => {
      if (interrupted && options.secondExits) process.exit(ExitCode.Interrupted)
      interrupted = true
      controller.abort()
    }
    process.on('SIGINT', onSignal)
    this.cleanups.push(() => process.removeListener('SIGINT', onSignal))
    return {
      signal: controller.signal,
      abort: () => controller.abort(),
      get interrupted() {
        return interrupted
      },
    }
  }

  /**
   * A progress reporter on stderr (a cli-progress bar with the command's own line of text): drawn
   * when stderr is a terminal, or when `--progress` asks for it (then a line every 2 s); silent
   * otherwise. Stopped in finally() if the command did not stop it.
   */
  protected progress(flags: { progress?: boolean }): ProgressReporter {
    const reporter = startProgress({ stream: process.stderr, force: Boolean(flags.progress) })
    this.cleanups.push(() => reporter.stop())
    return reporter
  }

  /**
   * The one flow of every planned write (topics create/delete, groups delete/reset, replay clean,
   * replay --group): print the plan (with --json as {"plan": …}), refuse what must not be done,
   * stop for --dry-run or when there is nothing to do, confirm on a terminal (without one --yes is
   * needed), write, print the result. Returns the write's result, or undefined when nothing was written.
   * @throws EvtError refused (exit 6) for a refused plan, a declined confirmation or no terminal without --yes;
   *   interrupted (exit 130) for Ctrl-C at the question.
   */
  protected async plannedWrite<P, R>(flags: WriteFlagValues, write: PlannedWrite<P, R>): Promise<R | undefined> {
    this.out(flags.json ? JSON.stringify({ plan: write.plan }) : write.render(write.plan))
    write.refuse?.(write.plan)
    if (flags['dry-run']) return undefined
    const idle = write.nothingToDo?.()
    if (idle) {
      if (typeof idle === 'string' && !flags.json) this.note(idle)
      return undefined
    }
    await confirmWrite(write.question, { yes: flags.yes })
    const result = await write.execute()
    const shown = write.result(result)
    this.out(flags.json ? JSON.stringify(shown.json) : shown.text)
    return result
  }

  /** Closes the sessions this run opened, after run() and catch(). */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    await Promise.all(this.sessions.splice(0).map(({ session, stop }) => {
      stop()
      return session.close()
    }))
    return super.finally(err)
  }

  /** Marks this run as JSON output, so errors are also written as JSON on stdout. */
  protected setJsonOutput(json: boolean): void {
    this.wantsJson = json
  }

  /** Writes one line to stdout. */
  protected out(line: string): void {
    process.stdout.write(line.endsWith('\n') ? line : `${line}\n`)
  }

  /** Writes one line to stderr (warnings, progress, notes), redacted. */
  protected note(line: string): void {
    const shown = redact(line)
    process.stderr.write(shown.endsWith('\n') ? shown : `${shown}\n`)
  }

  /** Writes `evt: warning: <message>` on stderr, redacted, once per run for the same message. */
  protected readonly warning = (message: string): void => {
    if (this.warned.has(message)) return
    this.warned.add(message)
    this.note(`evt: warning: ${message}`)
  }

  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<never> {
    if (err instanceof Errors.ExitError) throw err
    const verbose = this.verbose || process.argv.includes('--verbose') || Boolean(process.env.EVT_VERBOSE)
    let evt: EvtError
    if (err instanceof EvtError) {
      evt = err
      // oclif prefixes errors thrown by a flag's parse function ("Parsing --flag …See more help")
      const clean = err.message.replace(/^Parsing --\S+\s*\n\s*/, '').replace(/\nSee more help with --help\s*$/, '').trim()
      if (clean !== err.message) evt = new EvtError(err.kind, clean, { hint: err.hint, cause: err.cause })
    }
    else if (isParseError(err)) {
      // oclif parse errors (unknown flag, missing or unexpected argument, a value not among the options): usage, one line
      evt = usageFromParseError(err, { id: this.id, args: this.ctor.args, flags: this.ctor.flags }, this.config?.bin ?? 'evt', { argv: this.argv, env: process.env })
    } else if (isKafkaClientError(err)) evt = mapKafkaError(err)
    else evt = new EvtError('internal', err.message || String(err), { cause: err })

    const lines = [`evt: ${evt.message}`]
    if (evt.hint) lines.push(`  hint: ${evt.hint}`)
    if (evt.kind === 'internal' && !verbose) lines.push('  (this looks like a bug in evt; rerun with --verbose for details and report it)')
    if (verbose) {
      let cause: unknown = evt.kind === 'internal' && !(err instanceof EvtError) ? err : evt.cause
      for (let depth = 0; cause && depth < 5; depth++) {
        const c = cause as Error & { originalError?: unknown }
        lines.push(`  cause: ${c.stack ?? String(c)}`)
        cause = c.originalError ?? c.cause
      }
    }
    if (this.wantsJson) {
      process.stdout.write(`${JSON.stringify({ error: { kind: evt.kind, message: redact(evt.message), hint: evt.hint === undefined ? null : redact(evt.hint), exitCode: evt.exitCode } })}\n`)
    }
    process.stderr.write(`${lines.map(redact).join('\n')}\n`)
    throw new Errors.ExitError(evt.exitCode ?? ExitCode.Internal)
  }
}
