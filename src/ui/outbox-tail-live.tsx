/**
 * The `evt outbox tail` live view: the newest outbox rows, each waiting for the relay, late, or on
 * Kafka with where it landed and the relay's lag; counters and the lag p50/max on top. Rendered by
 * Ink from {@link outboxTailReducer}'s state, in batches (about 10 per second, by the shared
 * runner of src/ui/live-view.tsx); q or Ctrl-C leaves.
 *
 * Only for a terminal (the command decides with EvtCommand.liveView).
 */
import { Box, Text } from 'ink'
import type { OutboxTailEvent } from '../services/outbox-tail.ts'
import { recordTimeText } from '../time.ts'
import { singleLine } from '../util/terminal-text.ts'
import { runLiveView, type LiveExit, type LiveRunOptions } from './live-view.tsx'
import { initialOutboxTailState, lagSummary, outboxTailReducer, type OutboxTailAction, type OutboxTailState, type OutboxViewRow } from './state/outbox-tail-state.ts'

const duration = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`)

function RowLine({ r }: { r: OutboxViewRow }) {
  const head = `${recordTimeText(r.row.writtenAt, 11, 23)}  ${singleLine(`${r.row.aggregateType}/${r.row.aggregateId}`)}  ${singleLine(r.row.type ?? '')}  `
  if (r.status === 'waiting') return <Text wrap="truncate-end">{head}<Text color="yellow">waiting</Text></Text>
  if (r.status === 'late') return <Text wrap="truncate-end">{head}<Text color="red" bold>LATE</Text> <Text dimColor>not on Kafka yet</Text></Text>
  return (
    <Text wrap="truncate-end">
      {head}
      <Text color={r.wasLate ? 'red' : 'green'}>→ {singleLine(`${r.at!.topic}/${r.at!.partition}@${r.at!.offset}`)}</Text> <Text dimColor>+{duration(r.lagMs ?? 0)}</Text>
    </Text>
  )
}

/** The view of one state, fitted to `height` rows. */
export function OutboxTailView({ state, height = 24 }: { state: OutboxTailState; height?: number }) {
  const lag = lagSummary(state)
  const live = !state.ended && !state.exit
  const unknownRows = Math.min(state.unknownAt.length, 3)
  const bodyRows = Math.max(3, height - 3 - (unknownRows ? unknownRows + 1 : 0) - (live ? 1 : 0))
  const shown = state.rows.slice(-bodyRows)
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>evt outbox tail</Text> {singleLine(state.title)}
      </Text>
      <Text wrap="truncate-end">
        published <Text color="green">{state.published}</Text> · waiting {state.rows.filter((r) => r.status === 'waiting').length} · late <Text color={state.late ? 'red' : undefined}>{state.late}</Text> · unknown <Text color={state.unknown ? 'red' : undefined}>{state.unknown}</Text>
        {lag ? ` · relay lag p50 ${duration(lag.p50)} max ${duration(lag.max)}` : ''}
      </Text>
      {shown.length === 0 ? <Text dimColor>no row yet: rows appear as the service writes them</Text> : shown.map((r) => <RowLine key={r.row.id} r={r} />)}
      {unknownRows ? (
        <>
          <Text color="red">records of unknown origin:</Text>
          {state.unknownAt.slice(-unknownRows).map((u, i) => (
            <Text key={i} wrap="truncate-end">
              {'  '}
              {singleLine(`${u.at.topic}/${u.at.partition}@${u.at.offset}  ${u.eventId === undefined ? 'no event id' : `event id ${u.eventId}`}`)}
            </Text>
          ))}
        </>
      ) : null}
      {live ? <Text dimColor>q quit</Text> : null}
    </Box>
  )
}

/**
 * Shows the view until `source` ends or the user leaves (then `abort` is called and the source
 * winds down), on the shared live-view runner (src/ui/live-view.tsx). A source error is rethrown
 * after the view is gone.
 */
export async function runOutboxTailLiveView(source: AsyncIterable<OutboxTailEvent>, options: { title: string; abort: (reason: LiveExit) => void; mount?: LiveRunOptions<OutboxTailEvent, OutboxTailState, OutboxTailAction>['mount'] }): Promise<void> {
  let pending: OutboxTailEvent[] = []
  await runLiveView(source, {
    reducer: outboxTailReducer,
    initial: () => initialOutboxTailState({ title: options.title }),
    view: (state, height) => <OutboxTailView state={state} height={height} />,
    add: (event) => pending.push(event),
    take: () => {
      if (pending.length === 0) return undefined
      const events = pending
      pending = []
      return { type: 'events' as const, events }
    },
    abort: options.abort,
    mount: options.mount,
  })
}
