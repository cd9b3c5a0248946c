/**
 * The base of every evt command: resolves the connection, opens the run's Kafka session (closed
 * when the command ends), and owns the single catch() that turns any error into one message on
 * stderr and a documented exit code (see errors.ts). Everything it prints on stderr (errors,
 * hints, causes, warnings, notes) and the JSON error goes through redact() (src/redact.ts).
 */
import { Command, Errors } from '@oclif/core'
import { resolveConnection, type Connection } from './config/connection.ts'
import { openSession, type KafkaSession } from './kafka/session.ts'
import { EvtError, ExitCode, isKafkaClientError, mapKafkaError } from './errors.ts'
import { redact } from './redact.ts'
import { isParseError, usageFromParseError } from './cli-usage.ts'

/** The base of every evt command. Commands that talk to Kafka spread `connectionFlags` into their flags. */
export abstract class EvtCommand extends Command {
  private verbose = false
  private wantsJson = false
  private readonly sessions: Array<{ session: KafkaSession; stop: () => void }> = []
  private readonly warned = new Set<string>()

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

  /** Closes the sessions this run opened, after run() and catch(). */
  protected override async finally(err: Error | undefined): Promise<unknown> {
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
      evt = usageFromParseError(err, { id: this.id, args: this.ctor.args, flags: this.ctor.flags }, this.config?.bin ?? 'evt')
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
