/**
 * `evt lint` output: the table by topic and rule with evidence, the `--json` document
 * (docs/schemas/lint.schema.json) and the `--explain` text.
 */
import type { LintFinding } from '../lint/linter.ts'
import { RULE_IDS, RULES, severityRank, type RuleId, type Severity } from '../lint/rules.ts'
import type { LintResult } from '../services/lint.ts'
import { plural } from './plural.ts'
import { renderTable } from './table.ts'

/** Findings counted by severity. */
export function severityCounts(findings: LintFinding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 }
  for (const f of findings) out[f.severity]++
  return out
}

/** Findings at or above `level` (for `--fail-on`). */
export function findingsAtLeast(findings: LintFinding[], level: Severity): LintFinding[] {
  return findings.filter((f) => severityRank(f.severity) >= severityRank(level))
}

function sample(result: LintResult): string {
  const parts: string[] = []
  if (result.window.lastPerPartition !== null) parts.push(`the last ${result.window.lastPerPartition} per partition`)
  if (result.window.since !== null) parts.push(`since ${new Date(result.window.since).toISOString()}`)
  return parts.join(', ')
}

/** The summary line: what was read and what was found. */
export function lintSummary(result: LintResult): string {
  const c = severityCounts(result.findings)
  const found = result.findings.length === 0 ? 'no findings' : `${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}, ${c.info} info`
  return `${plural(result.scanned, 'record')} of ${plural(result.topics.length, 'topic')} read (${sample(result)}): ${found}`
}

/** The table: one row per evidence record (topic, rule, severity, subject and count on a finding's first row). */
export function renderLint(result: LintResult): string {
  const lines: string[] = []
  if (result.findings.length) {
    const rows: Array<Array<string | number>> = []
    for (const f of result.findings) {
      const ev = f.evidence.length ? f.evidence : [undefined]
      ev.forEach((e, i) => {
        const where = e ? `${e.topic}/${e.partition}@${e.offset}${e.note ? `  ${e.note}` : ''}` : ''
        rows.push(i === 0 ? [f.topic, f.rule, f.severity, f.subject ?? '', f.count, where] : ['', '', '', '', '', where])
      })
    }
    lines.push(renderTable(['TOPIC', 'RULE', 'SEVERITY', 'SUBJECT', 'COUNT', 'EVIDENCE'], rows, { alignRight: [4] }), '')
  }
  lines.push(lintSummary(result))
  if (result.truncated) lines.push('evt: note: more ids than lint tracks were seen; some duplicates, splits or causations may be missing (lower -n)')
  if (result.findings.length) lines.push(`what a rule means and how to fix it: evt lint --explain ${result.findings[0].rule}`)
  return lines.join('\n')
}

/** The `--json` document. */
export function lintJson(result: LintResult): string {
  return JSON.stringify({
    topics: result.topics,
    window: result.window,
    scanned: result.scanned,
    bytes: result.bytes,
    elapsedMs: result.elapsedMs,
    truncated: result.truncated,
    summary: severityCounts(result.findings),
    findings: result.findings,
  })
}

/** `--explain`: the rules named (all when none), each with its severity and paragraph. */
export function renderExplain(rules: RuleId[]): string {
  const list = rules.length ? rules : [...RULE_IDS]
  return list.map((id) => `${id} (${RULES[id].severity}): ${RULES[id].summary}\n\n  ${RULES[id].explanation}`).join('\n\n')
}

/** `--explain --json`: the rules as objects. */
export function explainJson(rules: RuleId[]): string {
  const list = rules.length ? rules : [...RULE_IDS]
  return JSON.stringify({ rules: list.map((id) => RULES[id]) })
}
