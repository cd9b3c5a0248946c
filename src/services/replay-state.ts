/**
 * `evt replay status` and `evt replay clean`: what copy replays left behind, and removing it.
 *
 * A copy replay leaves two things: its state file on the machine that started it
 * (src/replay/state.ts) and its progress group in the cluster (src/kafka/evt-ids.ts), whose
 * committed offsets on the source are the progress and whose offset metadata counts the records
 * copied and filtered out (src/replay/move.ts, ProgressNote), both written in the replay's
 * transactions. Status reads both; clean deletes the group (DeleteGroups) and then the file.
 *
 * A run's state: `running` (its run marker names a live process on this host), `finished` (every
 * partition's progress reached the end of its range), `interrupted` (neither: resume it with
 * `--resume`), or `other-cluster` (started against brokers that share none with this connection:
 * not looked up, never cleaned from here).
 */
import { refusedError } from '../errors.ts'
import { evtGroup, legacyReplayProgressGroup, replayProgressGroup } from '../kafka/evt-ids.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { progressState } from '../replay/move.ts'
import { assertReplayId, listReplays, loadReplay, removeReplayState, replayStatePath, runningProcess, type ReplayDefinition } from '../replay/state.ts'

/** The state of a copy replay. */
export type ReplayRunState = 'running' | 'finished' | 'interrupted' | 'other-cluster'

/** One source partition of a run. Offsets are source offsets; counts are records. */
export interface ReplayPartitionStatus {
  partition: number
  /** The planned range `[start, end)`. */
  start: number
  end: number
  /** The progress group's committed offset (the next source offset to copy); null: nothing committed. */
  committed: number | null
  /** Source offsets covered so far (null: not looked up, other cluster). */
  done: number | null
  /** Source offsets still to go (null: not looked up). */
  remaining: number | null
  /** Records written to the target so far; null when unknown (other cluster, or progress from an evt that did not count). */
  copied: number | null
  /** Records left out by the filter so far; null when unknown. */
  filtered: number | null
}

/** One copy replay (the `--json` contract of `replay status`). */
export interface ReplayRunStatus {
  id: string
  state: ReplayRunState
  source: string
  target: string
  /** ISO 8601. */
  createdAt: string
  filter: string | null
  /** Consumer group holding the progress (also the transactional id). */
  progressGroup: string
  /** The state file on this machine. */
  stateFile: string
  /** Brokers the run was started against. */
  brokers: string[]
  /** Source offsets in the plan (records, plus offsets of transaction markers and compacted gaps). */
  offsets: number
  done: number | null
  remaining: number | null
  copied: number | null
  filtered: number | null
  /** Members of the progress group (evt's runs never join it: any member is someone else's consumer). */
  groupMembers: number
  /** The copying process when running. */
  pid: number | null
  partitions: ReplayPartitionStatus[]
}

/** `replay status` without an id (the `--json` contract). */
export interface ReplayStatusList {
  runs: ReplayRunStatus[]
  /** State files that could not be read. */
  unreadable: Array<{ id: string; path: string; error: string }>
  /** Replay progress groups in the cluster without a state file here (started elsewhere, or the file was removed). */
  untracked: Array<{ group: string; replayId: string }>
}

function sameCluster(def: ReplayDefinition, brokers: string[]): boolean {
  const here = new Set(brokers.map((b) => b.toLowerCase()))
  return (def.brokers ?? []).length === 0 || def.brokers.some((b) => here.has(b.toLowerCase()))
}

async function runStatus(session: KafkaSession, def: ReplayDefinition): Promise<ReplayRunStatus> {
  const base = { id: def.id, source: def.source, target: def.target, createdAt: def.createdAt, filter: def.filter ?? null, progressGroup: def.progressGroup, stateFile: replayStatePath(def.id), brokers: def.brokers ?? [], offsets: def.partitions.reduce((s, p) => s + Math.max(0, p.end - p.start), 0) }
  const running = runningProcess(def.id)
  if (!sameCluster(def, session.connection.brokers)) {
    const partitions = def.partitions.map((p) => ({ ...p, committed: null, done: null, remaining: null, copied: null, filtered: null }))
    return { ...base, state: running ? 'running' : 'other-cluster', done: null, remaining: null, copied: null, filtered: null, groupMembers: 0, pid: running?.pid ?? null, partitions }
  }
  const admin = await session.admin()
  const [progress, [described]] = await Promise.all([progressState(session, def.progressGroup, def.source), admin.describeGroups([def.progressGroup])])
  const partitions: ReplayPartitionStatus[] = def.partitions.map((p) => {
    const committed = progress.get(p.partition) ?? null
    const size = Math.max(0, p.end - p.start)
    const done = committed ? Math.min(size, Math.max(0, committed.offset - p.start)) : 0
    // the counts are exact when they were kept from the range's start
    const counted = committed?.note && committed.note.from <= p.start ? committed.note : null
    return {
      ...p,
      committed: committed?.offset ?? null,
      done,
      remaining: size - done,
      copied: done === 0 ? 0 : (counted?.moved ?? null),
      filtered: done === 0 ? 0 : counted ? (counted.skipped.filtered ?? 0) : null,
    }
  })
  const sum = (key: 'done' | 'remaining' | 'copied' | 'filtered') => (partitions.some((p) => p[key] === null) ? null : partitions.reduce((s, p) => s + p[key]!, 0))
  const finished = partitions.every((p) => p.remaining === 0)
  const state: ReplayRunState = running ? 'running' : finished ? 'finished' : 'interrupted'
  return { ...base, state, done: sum('done'), remaining: sum('remaining'), copied: sum('copied'), filtered: sum('filtered'), groupMembers: described?.members.length ?? 0, pid: running?.pid ?? null, partitions }
}

/**
 * One replay's status. @throws EvtError usage (2) for a malformed id or state file, not-found (4)
 * without a state file here, connect (3).
 */
export async function replayStatus(session: KafkaSession, id: string): Promise<ReplayRunStatus> {
  return runStatus(session, loadReplay(id))
}

/** Every replay with a state file here, oldest first, and replay progress groups without one. @throws EvtError connect (3). */
export async function listReplayStatus(session: KafkaSession): Promise<ReplayStatusList> {
  const stored = listReplays()
  const runs: ReplayRunStatus[] = []
  const unreadable: ReplayStatusList['unreadable'] = []
  for (const s of stored) {
    if ('def' in s) runs.push(await runStatus(session, s.def))
    else unreadable.push({ id: s.id, path: s.path, error: s.error })
  }
  const known = new Set(stored.map((s) => s.id))
  const untracked: ReplayStatusList['untracked'] = []
  for (const g of await (await session.admin()).listGroups()) {
    const own = evtGroup(g.groupId)
    if (own?.kind === 'replay' && !known.has(own.replayId)) untracked.push({ group: g.groupId, replayId: own.replayId })
  }
  untracked.sort((a, b) => a.group.localeCompare(b.group))
  return { runs, unreadable, untracked }
}

/** One replay in a clean-up plan. */
export interface CleanEntry {
  id: string
  /** `untracked`: a progress group without a state file here. */
  state: ReplayRunState | 'untracked'
  /** Progress group to delete (null: none in the cluster). */
  group: string | null
  /** State file to delete (null: none here). */
  stateFile: string | null
  source: string | null
  target: string | null
  /** Why it is kept (in `kept` only). */
  reason?: string
}

/** What `replay clean` will do (the `--json` contract of the plan). */
export interface ReplayCleanPlan {
  remove: CleanEntry[]
  /** Selected but kept: running, a group with active members, another cluster. */
  kept: CleanEntry[]
  /** Ids named that have neither a state file here nor a progress group: already clean. */
  absent: string[]
  /** Without ids: interrupted runs not selected (name them, or --all). */
  notSelected: number
}

function entry(run: ReplayRunStatus): CleanEntry {
  return { id: run.id, state: run.state, group: run.progressGroup, stateFile: run.stateFile, source: run.source, target: run.target }
}

function keepReason(run: ReplayRunStatus): string | undefined {
  if (run.state === 'running') return `running (pid ${run.pid})`
  if (run.state === 'other-cluster') return `started on another cluster (${run.brokers.join(',')}): connect to it with -b or --profile to clean it`
  if (run.groupMembers > 0) return `its progress group "${run.progressGroup}" has ${run.groupMembers} active member${run.groupMembers === 1 ? '' : 's'}`
  return undefined
}

/** Does the group hold anything (members or committed offsets)? */
async function groupExists(session: KafkaSession, group: string): Promise<{ exists: boolean; members: number }> {
  const admin = await session.admin()
  const [[d], offsets] = await Promise.all([admin.describeGroups([group]), admin.committedOffsets(group)])
  const committed = offsets.some((t) => t.partitions.some((p) => p.offset !== null))
  return { exists: Boolean(d && d.state !== 'Dead') || committed, members: d?.members.length ?? 0 }
}

/**
 * Plans a clean-up; deletes nothing. Without ids: the finished runs of this cluster (`all`: the
 * interrupted ones too). With ids: those runs whatever their state (an interrupted one can then no
 * longer be resumed), and for an id without a state file here, its progress group if it exists.
 * Running runs, runs whose group has members and runs of another cluster are kept.
 * @throws EvtError usage (2) for a malformed id, connect (3).
 */
export async function planReplayClean(session: KafkaSession, options: { ids?: string[]; all?: boolean } = {}): Promise<ReplayCleanPlan> {
  const plan: ReplayCleanPlan = { remove: [], kept: [], absent: [], notSelected: 0 }
  const place = (run: ReplayRunStatus) => {
    const reason = keepReason(run)
    if (reason) plan.kept.push({ ...entry(run), reason })
    else plan.remove.push(entry(run))
  }
  if (!options.ids?.length) {
    for (const run of (await listReplayStatus(session)).runs) {
      if (run.state === 'finished' || (options.all && run.state === 'interrupted')) place(run)
      else if (run.state === 'interrupted') plan.notSelected++
    }
    return plan
  }
  for (const id of options.ids) assertReplayId(id)
  const stored = new Map(listReplays().map((s) => [s.id, s]))
  for (const id of [...new Set(options.ids)]) {
    const s = stored.get(id)
    if (s && 'def' in s) {
      place(await runStatus(session, s.def))
      continue
    }
    // no readable state file: the group under either name, if it exists
    let found = false
    for (const group of [replayProgressGroup(id), legacyReplayProgressGroup(id)]) {
      const { exists, members } = await groupExists(session, group)
      if (!exists) continue
      found = true
      const e: CleanEntry = { id, state: 'untracked', group, stateFile: s?.path ?? null, source: null, target: null }
      if (members > 0) plan.kept.push({ ...e, reason: `its progress group "${group}" has ${members} active member${members === 1 ? '' : 's'}` })
      else plan.remove.push(e)
    }
    if (!found && s) plan.remove.push({ id, state: 'untracked', group: null, stateFile: s.path, source: null, target: null })
    else if (!found) plan.absent.push(id)
  }
  return plan
}

/** What `replay clean` did with one run. */
export interface CleanResult extends CleanEntry {
  /** removed; gone (the group no longer existed); kept (became running or active since the plan). */
  outcome: 'removed' | 'gone' | 'kept'
}

/**
 * Executes a clean-up plan: for each run, checks again that it is not running and its group has
 * no members, deletes the progress group, then the state file (a group that cannot be deleted
 * keeps its file). Idempotent: what is already gone counts as done.
 * @throws EvtError connect (3); refused (6) after the others are done when a run had to be kept
 *   (the plan's `kept` included).
 */
export async function runReplayClean(session: KafkaSession, plan: ReplayCleanPlan): Promise<CleanResult[]> {
  const admin = await session.admin()
  const results: CleanResult[] = []
  for (const e of plan.remove) {
    if (e.state !== 'untracked' && runningProcess(e.id)) {
      results.push({ ...e, outcome: 'kept', reason: 'started running since the plan' })
      continue
    }
    let outcome: CleanResult['outcome'] = 'removed'
    if (e.group) {
      const [d] = await admin.describeGroups([e.group])
      const [deleted] = d && d.members.length > 0 ? [{ outcome: 'not-empty' as const }] : await admin.deleteGroups([e.group])
      if (deleted.outcome === 'not-empty') {
        results.push({ ...e, outcome: 'kept', reason: `its progress group "${e.group}" has active members` })
        continue
      }
      if (deleted.outcome === 'not-found' && !e.stateFile) outcome = 'gone'
    }
    if (e.stateFile) removeReplayState(e.id)
    results.push({ ...e, outcome })
  }
  return results
}

/** @throws EvtError refused (6) naming the runs kept by the plan or the clean-up, when any. */
export function refuseKept(plan: ReplayCleanPlan, results: CleanResult[]): void {
  const kept = [...plan.kept, ...results.filter((r) => r.outcome === 'kept')]
  if (kept.length === 0) return
  throw refusedError(`${kept.length} replay${kept.length === 1 ? ' was' : 's were'} kept: ${kept.map((k) => `${k.id} (${k.reason})`).join('; ')}`, 'wait for a running replay to end (or stop it with Ctrl-C), stop the consumers in its progress group, or connect to the cluster it ran on; then run evt replay clean again')
}
