/**
 * oclif's `command_not_found` hook (registered in package.json): an unknown command prints
 * `evt: unknown command "tial"` and `  hint: did you mean "evt tail"? see evt --help` on stderr
 * and exits 127 (README, exit codes). It never prompts and never runs another command, on a
 * terminal or not (this replaces @oclif/plugin-not-found, which asks "Did you mean …? (Y/n)").
 */
import type { Hook } from '@oclif/core'
import { unknownCommand } from '../cli-usage.ts'

const hook: Hook<'command_not_found'> = async function (opts) {
  const config = opts.config
  const hidden = new Set(config.commands.filter((c) => c.hidden).map((c) => c.id))
  const commandIds = config.commandIDs.filter((c) => !hidden.has(c))
  const topicIds = config.topics.map((t) => t.name)
  const { message, hint } = unknownCommand(opts.id, { bin: config.bin, commandIds, topicIds })
  process.stderr.write(`${config.bin}: ${message}\n  hint: ${hint}\n`)
  // a flag before any command (`evt --bogus`) is a usage error; anything else an unknown command
  process.exitCode = opts.id.startsWith('-') ? 2 : 127
  return { unknownCommand: true }
}

export default hook
