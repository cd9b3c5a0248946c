import { Args, Flags } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { ExitCode, usageError } from '../errors.ts'
import { connectionFlags, jsonFlag, strictFlag, withEnv } from '../flags.ts'
import { isRuleId, RULE_IDS, type RuleId } from '../lint/rules.ts'
import { explainJson, findingsAtLeast, lintJson, renderExplain, renderLint } from '../output/lint.ts'
import { plural } from '../output/plural.ts'
import { DEFAULT_LINT_RECORDS, lint } from '../services/lint.ts'
import { checkEpoch, parseDuration, parseInstant } from '../time.ts'
import { closeNames } from '../util/did-you-mean.ts'

export default class Lint extends EvtCommand {
  static override summary = 'Check real traffic against event-design rules, with the records that prove each finding.'
  static override description = `Reads a sample of each topic without a consumer group (the last ${DEFAULT_LINT_RECORDS} records of each partition by default; -n, --since) and reports, by topic and rule, what breaks event design: commands on events topics, types that are not past-tense facts, keys that are not the aggregate id, aggregates split over partitions, missing envelope fields, duplicate event ids, occurred times after the append (or long before it), payloads without a schema, breaking version changes, dangling causation ids, dead letters without origin. Each finding lists up to --evidence records (topic/partition@offset).

Default topics: all but Kafka's (__*), the platform's (_schemas, Connect's) and evt's own. Dead-letter topics are only checked for origin headers. Rules are turned off or tuned per topic in the profile's lint: section; --explain tells what a rule means and how to fix it.

Exit 5 with --fail-on when a finding at or above that severity exists (for CI).`
  static override examples = [
    { description: 'Lint every topic (the last 10 000 records of each partition)', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Some topics, the last hour, failing a CI job on errors', command: '<%= config.bin %> <%= command.id %> "*.events" --since 1h --fail-on error' },
    { description: 'The last 500 records per partition, as JSON', command: '<%= config.bin %> <%= command.id %> invoices.events payments.events -n 500 --json' },
    { description: 'What a rule means and how to fix it', command: '<%= config.bin %> <%= command.id %> --explain command-on-event-topic' },
  ]
  static override strict = false
  static override args = {
    topics: Args.string({ ignoreStdin: true, description: 'Topics to lint (names or globs); with --explain, rule ids. Default: every topic but internal ones.' }),
  }
  static override flags = withEnv({
    ...connectionFlags,
    ...strictFlag,
    ...jsonFlag,
    'max-messages': Flags.integer({ char: 'n', summary: `Read at most the last N records of each partition (default ${DEFAULT_LINT_RECORDS}; with --since, only when given).`, min: 1, env: 'EVT_MAX_MESSAGES' }),
    since: Flags.string({ summary: 'Read from this time on: a duration ago (1h, 7d) or a time (RFC 3339, date, epoch ms).', env: 'EVT_LINT_SINCE' }),
    evidence: Flags.integer({ summary: 'Records shown per finding.', default: 3, min: 0, env: 'EVT_LINT_EVIDENCE' }),
    'fail-on': Flags.option({ options: ['error', 'warning'] as const, summary: 'Exit 5 when a finding of this severity or higher exists.', env: 'EVT_LINT_FAIL_ON' })(),
    explain: Flags.boolean({ summary: 'Explain the rules named as arguments (all when none) and exit.' }),
  })

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Lint)
    const names = argv as string[]
    this.setJsonOutput(flags.json)
    if (flags.explain) {
      const rules: RuleId[] = names.map((n) => {
        if (isRuleId(n)) return n
        const [close] = closeNames(n, RULE_IDS, 1)
        throw usageError(`no lint rule "${n}"`, close ? `did you mean ${close}? (evt lint --explain lists them all)` : 'evt lint --explain lists them all')
      })
      this.out(flags.json ? explainJson(rules) : renderExplain(rules))
      return
    }
    const since = flags.since === undefined ? undefined : parseWhen(flags.since, '--since')
    const controller = new AbortController()
    const onSigint = () => controller.abort()
    process.on('SIGINT', onSigint)
    let result
    try {
      result = await lint(this.session(flags), {
        topics: names,
        lastPerPartition: flags['max-messages'],
        since,
        evidence: flags.evidence,
        strict: flags.strict,
        signal: controller.signal,
        onWarning: this.warning,
      })
    } finally {
      process.removeListener('SIGINT', onSigint)
    }
    this.out(flags.json ? lintJson(result) : renderLint(result))
    if (controller.signal.aborted) {
      this.note('evt: interrupted: the findings are those of the records read so far')
      process.exitCode = ExitCode.Interrupted
      return
    }
    if (flags['fail-on']) {
      const failing = findingsAtLeast(result.findings, flags['fail-on'])
      if (failing.length) {
        this.note(`evt: ${plural(failing.length, 'finding')} at or above ${flags['fail-on']} (--fail-on ${flags['fail-on']})`)
        process.exitCode = ExitCode.Expectation
      }
    }
  }
}

/** `--since 1h` (a duration ago) or an instant (epoch ms, RFC 3339, date). */
function parseWhen(text: string, flag: string): number {
  return checkEpoch(/^\d+(\.\d+)?(ms|s|m|h|d|w|y)$/i.test(text.trim()) ? Date.now() - parseDuration(text, flag) : parseInstant(text, flag), text, flag)
}
