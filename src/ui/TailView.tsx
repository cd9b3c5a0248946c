/**
 * The `evt tail` live view: a thin rendering of {@link TailViewState}. Everything it shows is
 * computed by the reducer or by the pure helpers of ../format.ts; it fits in `height` rows, every
 * line truncated to the width, so Ink can redraw it in place.
 */
import { Box, Text } from 'ink'
import { formatBytes } from '../output/records.ts'
import type { DecodedRecord } from '../record.ts'
import { eventType, formatRate, headerLines, keyPreview, recordClock, recordPosition, sparkline, valueLines, valuePreview } from './format.ts'
import type { DetailPane, PartitionRate, TailViewState } from './state/tail-state.ts'
import { recordTimeText } from '../time.ts'

/** Partitions given a rate line before the rest are summed up in one. */
const MAX_RATE_LINES = 6
/** Lines of a filter compile error shown under the prompt. */
const MAX_ERROR_LINES = 4

export const KEY_HELP = 'space pause · / filter · ↑↓ select · enter detail · q quit'
const DETAIL_HELP = '↑↓ scroll · esc back · q quit'
const PROMPT_HELP = 'enter apply · esc cancel · ctrl-u clear'

export interface TailViewProps {
  state: TailViewState
  /** Rows the view may use (the terminal height less one). */
  height?: number
}

export function TailView({ state, height = 24 }: TailViewProps) {
  const rates = state.partitions.length > MAX_RATE_LINES ? state.partitions.slice(0, MAX_RATE_LINES - 1) : state.partitions
  const moreRates = state.partitions.length - rates.length
  const live = !state.ended && !state.exit
  // a CEL error has the message, then the expression with a caret under the position
  const errorLines = state.prompt?.error ? state.prompt.error.split('\n').filter((l) => l.trim()).slice(0, MAX_ERROR_LINES) : []
  const fixed = 1 + Math.max(1, rates.length + (moreRates ? 1 : 0)) + (state.prompt ? 1 + errorLines.length : 0) + 1 + (live ? 1 : 0)
  const bodyRows = Math.max(3, height - fixed)
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>evt tail</Text> {state.topics.join(' ')}
      </Text>
      {state.detail ? <DetailView detail={state.detail} rows={bodyRows} /> : <RecordList state={state} rows={bodyRows} />}
      <RateLines rates={rates} more={moreRates} />
      {state.prompt ? (
        <>
          <Text wrap="truncate-end">
            <Text color="yellow">filter (CEL): </Text>
            {state.prompt.draft}
            <Text inverse> </Text>
          </Text>
          {errorLines.map((line, i) => (
            <Text key={i} color="red" wrap="truncate-end">
              {line}
            </Text>
          ))}
        </>
      ) : null}
      <StatusLine state={state} />
      {live ? (
        <Text dimColor wrap="truncate-end">
          {state.prompt ? PROMPT_HELP : state.detail ? DETAIL_HELP : KEY_HELP}
        </Text>
      ) : null}
    </Box>
  )
}

function RecordList({ state, rows }: { state: TailViewState; rows: number }) {
  const { shown, selected } = state
  if (shown.length === 0) {
    const why = state.filter && state.ring.length ? 'no record matches the view filter' : state.ended ? 'no records' : 'waiting for records…'
    return (
      <Box flexDirection="column" height={rows}>
        <Text dimColor>{why}</Text>
      </Box>
    )
  }
  const start = selected === undefined ? Math.max(0, shown.length - rows) : Math.min(Math.max(0, selected - Math.floor(rows / 2)), Math.max(0, shown.length - rows))
  const visible = shown.slice(start, start + rows)
  return (
    <Box flexDirection="column" height={rows}>
      {visible.map((record, i) => (
        <RecordLine key={`${recordPosition(record)}#${start + i}`} record={record} selected={start + i === selected} />
      ))}
    </Box>
  )
}

function RecordLine({ record, selected }: { record: DecodedRecord; selected: boolean }) {
  const type = eventType(record)
  return (
    <Text wrap="truncate-end" inverse={selected}>
      {selected ? '›' : ' '}
      <Text color="cyan">{recordPosition(record)}</Text> <Text dimColor>{recordClock(record)}</Text> <Text color="green">{keyPreview(record)}</Text>
      {type ? (
        <>
          {' '}
          <Text color="magenta">{type}</Text>
        </>
      ) : null}{' '}
      {record.valueDecoded.kind === 'null' ? <Text dimColor>{valuePreview(record)}</Text> : valuePreview(record)}
    </Text>
  )
}

function DetailView({ detail, rows }: { detail: DetailPane; rows: number }) {
  const { record } = detail
  const headers = headerLines(record)
  const lines = valueLines(record)
  const error = record.valueDecoded.error
  const type = eventType(record)
  // title + "headers" + each header + (error) + "value"; the value gets the rest, at least 3
  const valueRows = Math.max(3, rows - 3 - headers.length - (error ? 1 : 0))
  const scroll = Math.min(detail.scroll, Math.max(0, lines.length - valueRows))
  const fits = lines.length <= valueRows
  const visible = fits ? lines : lines.slice(scroll, scroll + valueRows - 1)
  const below = lines.length - scroll - visible.length
  return (
    <Box flexDirection="column" minHeight={rows}>
      <Text wrap="truncate-end">
        <Text color="cyan" bold>
          {recordPosition(record)}
        </Text>{' '}
        <Text dimColor>{recordTimeText(record.timestamp)}</Text> <Text color="green">key</Text> {keyPreview(record, 120)} <Text dimColor>({formatBytes(record.value?.length ?? 0)})</Text>
        {type ? (
          <>
            {' '}
            <Text color="magenta">{type}</Text>
          </>
        ) : null}
      </Text>
      <Text dimColor>headers ({headers.length}):</Text>
      {headers.map((h, i) => (
        <Text key={`${i}:${h.key}`} wrap="truncate-end">
          {'  '}
          <Text color="magenta">{h.key}</Text>:{' '}
          {h.value === null ? <Text dimColor>(null)</Text> : h.encoding === 'base64' ? (
            <>
              <Text color="yellow">base64:</Text>
              {h.value}
            </>
          ) : (
            h.value
          )}
        </Text>
      ))}
      {error ? (
        <Text color="red" wrap="truncate-end">
          {'  '}decode: {error}
        </Text>
      ) : null}
      <Text dimColor>
        value ({record.valueDecoded.kind}){scroll > 0 ? ` · ${scroll} lines above` : ''}:
      </Text>
      {visible.map((line, i) => (
        <Text key={scroll + i} wrap="truncate-end">
          {'  '}
          {line}
        </Text>
      ))}
      {!fits && below > 0 ? <Text dimColor>{`  … ${below} more lines (↑↓ scroll)`}</Text> : null}
    </Box>
  )
}

function RateLines({ rates, more }: { rates: PartitionRate[]; more: number }) {
  if (rates.length === 0) return <Text dimColor>rates: no records yet</Text>
  const width = Math.max(...rates.map((p) => `${p.topic}/${p.partition}`.length))
  const rateWidth = Math.max(...rates.map((p) => formatRate(p.rate).length))
  return (
    <>
      {rates.map((p) => (
        <Text key={`${p.topic}/${p.partition}`} wrap="truncate-end">
          <Text color="cyan">{`${p.topic}/${p.partition}`.padEnd(width)}</Text> {formatRate(p.rate).padStart(rateWidth)} <Text color="blue">{sparkline(p.history)}</Text> <Text dimColor>{p.total} in all</Text>
        </Text>
      ))}
      {more ? <Text dimColor>{`… ${more} more partitions`}</Text> : null}
    </>
  )
}

function StatusLine({ state }: { state: TailViewState }) {
  const filtered = state.filter ? ` · view filter: ${state.filter.expression} (${state.shown.length} shown)` : ''
  return (
    <Text wrap="truncate-end">
      {state.paused ? (
        <Text color="yellow" bold inverse>
          {` PAUSED +${state.newWhilePaused} new `}
        </Text>
      ) : null}
      {state.paused ? ' ' : ''}
      <Text bold>{state.received}</Text> records · {state.stats.scanned} read · {formatBytes(state.stats.bytes)} · {formatRate(state.totalRate)}
      {filtered}
      {state.exit === 'interrupt' ? ' · interrupted' : state.ended ? ' · ended' : ''}
    </Text>
  )
}
