/**
 * What the live views of `evt tail` and `evt outbox tail` share: the Ink app that runs a view's
 * reducer (keys, the terminal's height, the exit and end effects) and the runner that pumps a
 * source into it in batches (about 10 per second, never one render per item), ends when the source
 * ends or the user presses q / Ctrl-C, and takes the view down before a source error is rethrown.
 *
 * Only for a terminal (each command decides).
 */
import { render, useInput, useWindowSize, type Key } from 'ink'
import { useEffect, useReducer, type ReactElement } from 'react'

/** Milliseconds between batches handed to the reducer (≈ 10 fps). */
export const FLUSH_MS = 100

/** How long the runner waits for the ended state to be on screen before it unmounts, ms. */
const ENDED_FRAME_MS = 500

/** Why the user left the view: q, or Ctrl-C. */
export type LiveExit = 'quit' | 'interrupt'

/** The part of a live view's state the app reads: the reducer sets `exit` on q / Ctrl-C and `ended` on {@link LiveEndAction}. */
export interface LiveViewState {
  ended: boolean
  exit?: LiveExit
}

/** A key the user pressed, as Ink reports it: every live view's reducer takes it. */
export interface LiveKeyAction {
  type: 'key'
  input: string
  key: Key
}

/** The source ended (and the view shows so): every live view's reducer takes it. */
export interface LiveEndAction {
  type: 'end'
}

/** A live view's reducer: its own actions `A` (known from the runner's `take`) plus keys and the end. */
export type LiveReducer<S extends LiveViewState, A> = (state: S, action: NoInfer<A> | LiveKeyAction | LiveEndAction) => S

/** What Ink's render returns and the runner uses (tests mount with ink-testing-library). */
export interface LiveInstance {
  clear(): void
  unmount(): void
  waitUntilExit(): Promise<unknown>
}

/** What a live view consists of: its state, how actions change it, and how it looks. */
export interface LiveViewSpec<S extends LiveViewState, A> {
  reducer: LiveReducer<S, A>
  /** The first state. */
  initial: () => S
  /** The view of one state, fitted to `height` rows. */
  view: (state: S, height: number) => ReactElement
}

interface LiveAppProps<S extends LiveViewState, A> {
  spec: LiveViewSpec<S, A>
  /** Hands the reducer's dispatch to the runner; returns the disconnect. */
  connect: (dispatch: (action: A | LiveEndAction) => void) => () => void
  onExit: (reason: LiveExit) => void
  /** Called once the ended state is on screen. */
  onEnded: () => void
}

function LiveApp<S extends LiveViewState, A>({ spec, connect, onExit, onEnded }: LiveAppProps<S, A>) {
  const [state, dispatch] = useReducer(spec.reducer, undefined, spec.initial)
  const { rows } = useWindowSize()
  useEffect(() => connect(dispatch), [connect])
  // keys go through the reducer, which reads the state current at that key (not this render's)
  useInput((input, key) => dispatch({ type: 'key', input, key }))
  useEffect(() => {
    if (state.exit) onExit(state.exit)
  }, [state.exit, onExit])
  useEffect(() => {
    if (state.ended) onEnded()
  }, [state.ended, onEnded])
  return spec.view(state, Math.max(8, (rows || 24) - 1))
}

/** How {@link runLiveView} batches a source of items `T` into actions `A`. */
export interface LiveRunOptions<T, S extends LiveViewState, A> extends LiveViewSpec<S, A> {
  /** Keeps one item of the source for the next batch (bounded: a fast source must not grow memory between batches). */
  add: (item: T) => void
  /** The items kept since the last batch as one action, or undefined when there are none. */
  take: () => A | undefined
  /**
   * Stops the source; called when the user quits (q, reason 'quit') or presses Ctrl-C
   * ('interrupt'). The source should then end soon.
   */
  abort: (reason: LiveExit) => void
  /** A timer besides the batches: every `everyMs`, after a batch, `run` may dispatch (tail's rates). */
  tick?: { everyMs: number; run: (dispatch: (action: A) => void) => void }
  /** Mounts the app; default Ink's render on the terminal (Ctrl-C is a key, console output goes above the view). */
  mount?: (app: ReactElement) => LiveInstance
}

/**
 * Shows a live view until `source` ends or the user leaves. On q / Ctrl-C it calls
 * `options.abort()` and waits for the source to wind down; when the source ends by itself, the
 * ended state is shown before the view goes. A source error is rethrown after the view is gone
 * (cleared from the screen), for the command's one error path.
 */
export async function runLiveView<T, S extends LiveViewState, A>(source: AsyncIterable<T>, options: LiveRunOptions<T, S, A>): Promise<void> {
  let dispatch: ((action: A | LiveEndAction) => void) | undefined
  const flush = () => {
    if (!dispatch) return
    const action = options.take()
    if (action !== undefined) dispatch(action)
  }
  const connect = (d: (action: A | LiveEndAction) => void) => {
    dispatch = d
    return () => {
      if (dispatch === d) dispatch = undefined
    }
  }

  let finish!: (how: { reason: LiveExit | 'end'; error?: unknown }) => void
  const finished = new Promise<{ reason: LiveExit | 'end'; error?: unknown }>((resolve) => {
    finish = resolve
  })
  let onEnded = () => {}

  const mount = options.mount ?? ((app: ReactElement) => render(app, { exitOnCtrlC: false, maxFps: 10, patchConsole: true }))
  const spec: LiveViewSpec<S, A> = { reducer: options.reducer, initial: options.initial, view: options.view }
  const instance = mount(<LiveApp spec={spec} connect={connect} onExit={(reason) => finish({ reason })} onEnded={() => onEnded()} />)
  const timers = [setInterval(flush, FLUSH_MS)]
  const tick = options.tick
  if (tick) {
    timers.push(setInterval(() => {
      flush()
      if (dispatch) tick.run(dispatch)
    }, tick.everyMs))
  }

  const pump = (async () => {
    try {
      for await (const item of source) options.add(item)
      finish({ reason: 'end' })
    } catch (error) {
      finish({ reason: 'end', error })
    }
  })()

  const how = await finished
  for (const t of timers) clearInterval(t)
  if (how.reason !== 'end') options.abort(how.reason)
  flush()
  if (how.reason === 'end' && !how.error && dispatch) {
    // updates from outside React are committed asynchronously: let the final frame show first
    const shown = new Promise<void>((resolve) => {
      onEnded = resolve
    })
    dispatch({ type: 'end' })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([shown, new Promise((resolve) => (timer = setTimeout(resolve, ENDED_FRAME_MS)))])
    clearTimeout(timer)
  }
  if (how.error) instance.clear()
  instance.unmount()
  await instance.waitUntilExit().catch(() => {})
  // let the source close its connection (it sees the abort within one fetch wait)
  await pump
  if (how.error) throw how.error
}
