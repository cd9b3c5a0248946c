/**
 * CEL filters over a dead-letter record AND its parsed failure: the variables of
 * src/filter.ts (`topic`, `partition`, `offset`, `timestamp`, `key`, `value`, `headers`) plus
 * `failure` (the {@link DlqFailure} fields that are known), e.g.
 * `failure.exception.endsWith("TimeoutException") && failure.originalTopic == "orders"`.
 * A field the failure does not have makes the expression false (use `has(failure.cause)`).
 */
import { celContext, celPredicate, compileCel, parseCel, type RecordFilter } from '../filter.ts'
import type { DecodedRecord } from '../record.ts'
import type { DlqFailure } from './failure.ts'

/** A predicate over a decoded record and its parsed failure. */
export type DlqRecordFilter = (record: DecodedRecord, failure: DlqFailure) => boolean

/**
 * Compiles a CEL expression that may use `failure`.
 * @throws EvtError (usage, exit 2) when it does not compile (same message as `--filter` elsewhere).
 */
export function compileDlqCel(expression: string, flag = '--filter', onWarning?: (message: string) => void): DlqRecordFilter {
  compileCel(expression, flag) // validates, with evt's usage error and hint
  const program = parseCel(expression, flag)
  return celPredicate(program, (record: DecodedRecord, failure: DlqFailure) => ({ ...celContext(record), failure }), flag, onWarning)
}

/** Lifts a record-only filter (`--key`, `--header`) to a {@link DlqRecordFilter}. */
export function onRecord(filter: RecordFilter): DlqRecordFilter {
  return (record) => filter(record)
}

/** All must pass; none → undefined. */
export function combineDlqFilters(filters: DlqRecordFilter[]): DlqRecordFilter | undefined {
  if (filters.length === 0) return undefined
  if (filters.length === 1) return filters[0]
  return (record, failure) => filters.every((f) => f(record, failure))
}
