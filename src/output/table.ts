/**
 * Plain tables (cli-table3) for terminal output: borderless, left-aligned, headers in bold
 * (chalk honours NO_COLOR and a non-TTY stdout).
 */
import Table from 'cli-table3'
import chalk from 'chalk'
import { escapeControl } from '../util/terminal-text.ts'

/** Renders rows under a header as a compact table string (no trailing newline); cells are escaped ({@link escapeControl}). */
export function renderTable(head: string[], rows: Array<Array<string | number>>, options: { alignRight?: number[] } = {}): string {
  const table = new Table({
    head: head.map((h) => chalk.bold(h)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '' },
    colAligns: head.map((_, i) => (options.alignRight?.includes(i) ? 'right' : 'left')),
  })
  for (const row of rows) table.push(row.map((c) => escapeControl(String(c))))
  return table.toString().split('\n').map((l) => l.trimEnd()).join('\n')
}
