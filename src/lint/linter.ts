/**
 * The lint engine: pure, streaming. `add()` takes one decoded record and its EventMeta at a time
 * and keeps only per-rule state (counters, the first evidence of each finding, bounded maps of
 * ids); `finish()` decides the rules that need the whole window (topic kinds, version drift,
 * dangling causation, schema hints) and returns the findings.
 *
 * Memory: every id map is capped ({@link MAX_TRACKED} entries each) and holds one number per id
 * (partition and offset packed); past the cap, new ids are not tracked (duplicates and splits
 * among them go unseen, never reported wrongly; causation-dangling is then not reported at all) and
 * `truncated` says so. A causation id whose event was already read is not kept at all. Evidence is
 * capped per finding (`evidence`).
 */
import { parseFailure } from '../dlq/failure.ts'
import type { EventMeta } from '../envelope/index.ts'
import { connectPayload, decodedId, headerText, isObject } from '../envelope/values.ts'
import type { DecodedRecord } from '../record.ts'
import { REPLAY_SOURCE_HEADER, REQUEUED_FROM_HEADER } from '../replay/provenance.ts'
import { classifyType, type NameHints, type TypeKind } from './names.ts'
import { RULE_IDS, RULES, type RuleId, type Severity } from './rules.ts'

/** A record that proves a finding. */
export interface Evidence {
  topic: string
  partition: number
  offset: number
  /** What this record shows, when the finding's message does not say it all (`key "a", aggregate "b"`). */
  note?: string
}

/** One finding: a rule broken on a topic, for one subject (an event type, a field, …). */
export interface LintFinding {
  rule: RuleId
  severity: Severity
  topic: string
  /** What the finding is about: an event type, an envelope field, `clock skew`; null when the topic as a whole. */
  subject: string | null
  /** One line. */
  message: string
  /** Records that break the rule; for causation-dangling the distinct causation ids, for version-drift the records going backwards plus the fields dropped. */
  count: number
  /** The first records that prove it, at most the `evidence` option. */
  evidence: Evidence[]
}

/** The settings of the rules on one topic (the profile's `lint:` section, resolved for the topic). */
export interface TopicLintSettings {
  /** Rules that are off on this topic. */
  ignore: ReadonlySet<RuleId>
  /** Severities that replace the defaults. */
  severity: Partial<Record<RuleId, Severity>>
  /** Type names that count as facts / commands. */
  names: NameHints
}

/** What the engine needs to know. */
export interface LinterOptions {
  /** Evidence records kept per finding (default 3). */
  evidence?: number
  /** The settings for a topic (default: every rule on, default severities). Called once per topic. */
  settings?: (topic: string) => TopicLintSettings
  /** True for a dead-letter topic: only `dlq-without-origin` applies there. */
  isDlq?: (topic: string) => boolean
  /** `occurred-after-append`: an occurred time later than the timestamp by more than this is clock skew, ms (default 60 000). */
  skewMs?: number
  /** `occurred-after-append`: an occurred time earlier than the timestamp by more than this is late publication, ms (default 3 600 000). */
  lateMs?: number
  /** Entries each id map keeps at most (default {@link MAX_TRACKED}). */
  maxTracked?: number
}

/** Entries each id map keeps at most. */
export const MAX_TRACKED = 500_000
/** Distinct event types tracked per topic at most. */
const MAX_TYPES = 1000
/** Characters of an event type kept (longer ones are cut, with `…`). */
const MAX_TYPE_LENGTH = 200
/** Fields tracked per event version at most. */
const MAX_FIELDS = 200

const DEFAULT_SETTINGS: TopicLintSettings = { ignore: new Set(), severity: {}, names: {} }

/** A topic whose name says it carries events (`orders.events`, `events-billing`). */
export const EVENTS_TOPIC_NAME = /(^|[._-])events?([._-]|$)/i
/** A topic whose name says it carries commands (`payments.commands`). */
export const COMMANDS_TOPIC_NAME = /(^|[._-])(commands?|cmds?)([._-]|$)/i

/** Headers that say what the value's bytes are. */
const HINT_HEADERS = new Set(['content-type', 'contenttype', 'content_type', 'ce_datacontenttype', 'ce_dataschema', 'schema-id', 'schema_id', 'value.schema.id'])
const VERSION_PATHS = ['event_version', 'eventVersion', 'dataversion'] as const

interface Bucket {
  count: number
  evidence: Evidence[]
}

interface TypeState extends Bucket {
  kind: TypeKind
}

interface VersionState {
  /** Fields every record of this version had (null before the first). */
  always: Set<string> | null
  /** Fields any record of this version had. */
  any: Set<string>
  first: Evidence
}

interface TopicState {
  settings: TopicLintSettings
  dlq: boolean
  types: Map<string, TypeState>
  enveloped: number
  plain: Bucket
  hinted: number
  unhinted: Bucket
  /** event id → its first record, {@link pack}ed. */
  eventIds: Map<string, number>
  /** aggregate id → its first record, {@link pack}ed. */
  aggregates: Map<string, number>
  /** type → version → fields. */
  versions: Map<string, Map<number, VersionState>>
  /** type → per partition the highest version so far, with its record. */
  maxVersion: Map<string, Array<{ version: number; at: Evidence } | undefined>>
  /** Causation ids not seen as an event id when their record was read → that record, {@link pack}ed (checked again in finish). */
  causes: Map<string, number>
}

function ref(record: DecodedRecord, note?: string): Evidence {
  const e: Evidence = { topic: record.topic, partition: record.partition, offset: Number(record.offset) }
  if (note !== undefined) e.note = note
  return e
}

function at(e: Evidence): string {
  return `${e.topic}/${e.partition}@${e.offset}`
}

/** Offsets below 2^40 and partitions below 8192 pack into one safe integer (a map value, not an object per id). */
const OFFSET_SPACE = 2 ** 40
function pack(record: DecodedRecord): number | undefined {
  const offset = Number(record.offset)
  return offset < OFFSET_SPACE && record.partition < 8192 ? record.partition * OFFSET_SPACE + offset : undefined
}
function unpack(topic: string, packed: number): Evidence {
  return { topic, partition: Math.floor(packed / OFFSET_SPACE), offset: packed % OFFSET_SPACE }
}

/** True for a copy evt wrote (replay --to-topic, dlq requeue): not a duplicate, not late. */
function isEvtCopy(record: DecodedRecord): boolean {
  return record.headers.some((h) => h.key === REPLAY_SOURCE_HEADER || h.key === REQUEUED_FROM_HEADER)
}

function versionOf(record: DecodedRecord, json: Record<string, unknown> | undefined): number | undefined {
  for (const h of record.headers) {
    if (h.key.toLowerCase() === 'ce_dataversion') {
      const n = Number(headerText(h.value))
      if (Number.isFinite(n)) return n
    }
  }
  if (!json) return undefined
  for (const p of VERSION_PATHS) {
    const v = json[p]
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*v?\d+(\.\d+)?\s*$/i.test(v) ? Number(v.trim().replace(/^v/i, '')) : undefined
    if (n !== undefined && Number.isFinite(n)) return n
  }
  return undefined
}

/** The object whose fields version-drift compares: the seed envelope's `data`, else the value itself. */
function fieldsOf(json: Record<string, unknown>): Record<string, unknown> {
  return isObject(json.data) ? json.data : json
}

function jsonOf(record: DecodedRecord): Record<string, unknown> | undefined {
  const d = record.valueDecoded
  if (d.kind !== 'json' && d.kind !== 'avro' && d.kind !== 'json-schema' && d.kind !== 'protobuf') return undefined
  let v = connectPayload(d.value)
  if (typeof v === 'string' && d.kind === 'json') {
    try {
      v = JSON.parse(v) as unknown
    } catch {
      return undefined
    }
  }
  return isObject(v) ? v : undefined
}

/**
 * The lint engine (see the module comment). Not thread-safe; one per run.
 */
export class Linter {
  /** True when an id map reached {@link MAX_TRACKED} and later ids were not tracked. */
  truncated = false
  /** Records seen. */
  records = 0
  private readonly evidenceMax: number
  private readonly settingsOf: (topic: string) => TopicLintSettings
  private readonly isDlq: (topic: string) => boolean
  private readonly skewMs: number
  private readonly lateMs: number
  private readonly maxTracked: number
  private readonly topics = new Map<string, TopicState>()
  private readonly findings = new Map<string, LintFinding>()

  constructor(options: LinterOptions = {}) {
    this.evidenceMax = Math.max(0, options.evidence ?? 3)
    this.settingsOf = options.settings ?? (() => DEFAULT_SETTINGS)
    this.isDlq = options.isDlq ?? (() => false)
    this.skewMs = options.skewMs ?? 60_000
    this.lateMs = options.lateMs ?? 3_600_000
    this.maxTracked = options.maxTracked ?? MAX_TRACKED
  }

  private topic(name: string): TopicState {
    let t = this.topics.get(name)
    if (!t) {
      t = {
        settings: this.settingsOf(name),
        dlq: this.isDlq(name),
        types: new Map(),
        enveloped: 0,
        plain: { count: 0, evidence: [] },
        hinted: 0,
        unhinted: { count: 0, evidence: [] },
        eventIds: new Map(),
        aggregates: new Map(),
        versions: new Map(),
        maxVersion: new Map(),
        causes: new Map(),
      }
      this.topics.set(name, t)
    }
    return t
  }

  private on(t: TopicState, rule: RuleId): boolean {
    return !t.settings.ignore.has(rule)
  }

  /** Counts a record in `bucket`, keeping it as evidence while there is room (the evidence object is made only then). */
  private keep(bucket: Bucket, record: DecodedRecord, note?: string): void {
    bucket.count++
    if (bucket.evidence.length < this.evidenceMax) bucket.evidence.push(ref(record, note))
  }

  private put<K, V>(map: Map<K, V>, key: K, value: V): void {
    if (map.size >= this.maxTracked) {
      this.truncated = true
      return
    }
    map.set(key, value)
  }

  /** Adds one to the finding (rule, topic, subject), creating it with `message`; keeps `e` as evidence while there is room. */
  private hit(t: TopicState, rule: RuleId, topic: string, subject: string | null, message: string, record: DecodedRecord, note?: string): void {
    const key = `${rule}\u0000${topic}\u0000${subject ?? ''}`
    let f = this.findings.get(key)
    if (!f) {
      f = { rule, severity: t.settings.severity[rule] ?? RULES[rule].severity, topic, subject, message, count: 0, evidence: [] }
      this.findings.set(key, f)
    }
    this.keep(f, record, note)
  }

  /** Takes one record (in offset order within its partition) and what its envelope says. Never throws. */
  add(record: DecodedRecord, meta: EventMeta, fallbackType?: string): void {
    this.records++
    const t = this.topic(record.topic)
    const name = record.topic
    if (t.dlq) {
      if (this.on(t, 'dlq-without-origin') && record.value !== null) {
        const f = parseFailure(record.headers)
        if (f.originalTopic === undefined || f.originalPartition === undefined || f.originalOffset === undefined) {
          const missing = [f.originalTopic === undefined && 'topic', f.originalPartition === undefined && 'partition', f.originalOffset === undefined && 'offset'].filter(Boolean).join(', ')
          this.hit(t, 'dlq-without-origin', name, null, 'dead letters without origin headers: they cannot be requeued', record, `no origin ${missing}`)
        }
      }
      return
    }
    if (record.value === null) return // a tombstone carries no event
    const copy = isEvtCopy(record)
    const rawType = meta.eventType ?? fallbackType
    // a type is a name: one that is not (a megabyte of text) is cut, so it stays a bounded map key and a table cell
    const type = rawType !== undefined && rawType.length > MAX_TYPE_LENGTH ? `${rawType.slice(0, MAX_TYPE_LENGTH - 1)}…` : rawType

    // types, for the topic-level rules
    if (type !== undefined) {
      let s = t.types.get(type)
      if (!s && t.types.size < MAX_TYPES) t.types.set(type, (s = { kind: classifyType(type, t.settings.names), count: 0, evidence: [] }))
      if (s) this.keep(s, record)
    }

    // envelope
    const enveloped = meta.eventId !== undefined || meta.eventType !== undefined
    if (enveloped) {
      t.enveloped++
      if (this.on(t, 'missing-envelope-field')) {
        const missing: Array<[keyof EventMeta, string]> = [['eventId', 'event id'], ['eventType', 'event type'], ['occurredAt', 'occurred time'], ['correlationId', 'correlation id']]
        for (const [field, label] of missing) {
          if (meta[field] === undefined) this.hit(t, 'missing-envelope-field', name, label, `records without ${label}`, record, type)
        }
      }
    } else if (record.value.length > 0) this.keep(t.plain, record)

    // schema hints
    if (record.value.length > 0) {
      const hinted = record.valueDecoded.schemaId !== undefined || record.headers.some((h) => HINT_HEADERS.has(h.key.toLowerCase()))
      if (hinted) t.hinted++
      else this.keep(t.unhinted, record)
    }

    // key = aggregate
    if (meta.aggregateId !== undefined && this.on(t, 'key-not-aggregate')) {
      const key = record.key === null ? undefined : decodedId(record.keyDecoded, record.key)
      if (key !== meta.aggregateId) {
        this.hit(t, 'key-not-aggregate', name, type ?? null, 'record key differs from the aggregate id', record, `key ${key === undefined ? (record.key === null ? '(none)' : '(not text)') : JSON.stringify(key)}, aggregate ${JSON.stringify(meta.aggregateId)}`)
      }
    }

    // one aggregate, one partition
    if (meta.aggregateId !== undefined && this.on(t, 'aggregate-split')) {
      const first = t.aggregates.get(meta.aggregateId)
      if (first === undefined) {
        const here = pack(record)
        if (here !== undefined) this.put(t.aggregates, meta.aggregateId, here)
      } else if (Math.floor(first / OFFSET_SPACE) !== record.partition) {
        this.hit(t, 'aggregate-split', name, meta.aggregateType ?? type ?? null, 'one aggregate on several partitions', record, `aggregate ${JSON.stringify(meta.aggregateId)} also at ${at(unpack(name, first))}`)
      }
    }

    // duplicates (the event ids also serve causation-dangling)
    if (meta.eventId !== undefined && !copy) {
      const first = t.eventIds.get(meta.eventId)
      if (first === undefined) {
        const here = pack(record)
        if (here !== undefined) this.put(t.eventIds, meta.eventId, here)
      } else if (this.on(t, 'duplicate-event-id')) this.hit(t, 'duplicate-event-id', name, type ?? null, 'the same event id more than once', record, `event id ${JSON.stringify(meta.eventId)} also at ${at(unpack(name, first))}`)
    }

    // occurred vs appended
    if (meta.occurredAt !== undefined && record.timestamp > 0 && !copy && this.on(t, 'occurred-after-append')) {
      const ahead = meta.occurredAt - record.timestamp
      if (ahead > this.skewMs) this.hit(t, 'occurred-after-append', name, 'clock skew', 'occurred after the broker timestamp (producer clock ahead)', record, `occurred ${formatMs(ahead)} after the timestamp`)
      else if (-ahead > this.lateMs) this.hit(t, 'occurred-after-append', name, 'late publication', 'published long after it occurred (a stuck outbox?)', record, `occurred ${formatMs(-ahead)} before the timestamp`)
    }

    // causation (a cause already seen needs no memory; the others are checked again at the end)
    if (meta.causationId !== undefined && !t.eventIds.has(meta.causationId) && !t.causes.has(meta.causationId) && this.on(t, 'causation-dangling')) {
      const here = pack(record)
      if (here !== undefined) this.put(t.causes, meta.causationId, here)
    }

    // versions
    if (type !== undefined && this.on(t, 'version-drift')) {
      const json = jsonOf(record)
      const version = versionOf(record, json)
      if (version !== undefined) {
        let perPartition = t.maxVersion.get(type)
        if (!perPartition && t.maxVersion.size < MAX_TYPES) t.maxVersion.set(type, (perPartition = []))
        const max = perPartition?.[record.partition]
        if (max && version < max.version) {
          this.hit(t, 'version-drift', name, type, 'versions going backwards (an old producer still running?)', record, `version ${version} after version ${max.version} at ${at(max.at)}`)
        } else if (perPartition && (!max || version > max.version) && record.partition < 100_000) perPartition[record.partition] = { version, at: ref(record) }
        if (json) {
          let byVersion = t.versions.get(type)
          if (!byVersion && t.versions.size < MAX_TYPES) t.versions.set(type, (byVersion = new Map()))
          if (byVersion) {
            let v = byVersion.get(version)
            if (!v && byVersion.size < 100) byVersion.set(version, (v = { always: null, any: new Set(), first: ref(record) }))
            if (v) {
              const data = fieldsOf(json)
              if (v.always === null) v.always = new Set(Object.keys(data).slice(0, MAX_FIELDS))
              else for (const f of v.always) if (!Object.hasOwn(data, f)) v.always.delete(f)
              if (v.any.size < MAX_FIELDS) for (const f in data) if (v.any.size < MAX_FIELDS) v.any.add(f)
            }
          }
        }
      }
    }
  }

  /** The findings, by topic, then rule order, then subject. Call once, after the last `add`. */
  finish(): LintFinding[] {
    for (const [name, t] of this.topics) {
      if (t.dlq) continue
      this.topicKinds(name, t)
      if (this.on(t, 'missing-envelope-field') && t.enveloped > 0 && t.plain.count > 0) {
        this.addBucket(t, 'missing-envelope-field', name, 'envelope', `records without an envelope (no event id or type) where ${t.enveloped} have one`, t.plain)
      }
      if (this.on(t, 'schema-less-payload') && t.hinted > 0 && t.unhinted.count > 0) {
        this.addBucket(t, 'schema-less-payload', name, null, `values without registry framing or a content-type header, where ${t.hinted} have one`, t.unhinted)
      }
      if (this.on(t, 'version-drift')) this.versionDrift(name, t)
    }
    const states = [...this.topics.values()]
    const seen = (id: string): boolean => states.some((s) => s.eventIds.has(id))
    // past the cap an unseen cause may be an untracked event: no dangling causation is claimed then
    for (const [name, t] of this.truncated ? [] : this.topics) {
      const dangling: Bucket = { count: 0, evidence: [] }
      for (const [id, packed] of t.causes) {
        if (seen(id)) continue
        dangling.count++
        if (dangling.evidence.length < this.evidenceMax) dangling.evidence.push({ ...unpack(name, packed), note: `causation id ${JSON.stringify(id)}` })
      }
      if (dangling.count) this.addBucket(t, 'causation-dangling', name, null, 'causation ids that name no event in the sample of the topics linted', dangling)
    }
    const order = new Map<string, number>(RULE_IDS.map((r, i) => [r, i]))
    const out = [...this.findings.values()]
    for (const f of out) f.evidence.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.offset - b.offset))
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : order.get(a.rule)! - order.get(b.rule)! || (a.subject ?? '').localeCompare(b.subject ?? '')))
  }

  private addBucket(t: TopicState, rule: RuleId, topic: string, subject: string | null, message: string, b: Bucket): void {
    this.findings.set(`${rule}\u0000${topic}\u0000${subject ?? ''}`, { rule, severity: t.settings.severity[rule] ?? RULES[rule].severity, topic, subject, message, count: b.count, evidence: b.evidence.slice(0, this.evidenceMax) })
  }

  /** command-on-event-topic, event-type-not-past-tense: is the topic an events topic, and which of its types do not belong. */
  private topicKinds(name: string, t: TopicState): void {
    let facts = 0
    let others = 0
    for (const s of t.types.values()) {
      if (s.kind === 'fact') facts++
      else others++
    }
    const events = COMMANDS_TOPIC_NAME.test(name) ? false : EVENTS_TOPIC_NAME.test(name) || (facts > 0 && facts > others)
    if (!events) return
    for (const [type, s] of t.types) {
      if (s.kind === 'command' && this.on(t, 'command-on-event-topic')) this.addBucket(t, 'command-on-event-topic', name, type, 'a command (an imperative type) on an events topic', s)
      if (s.kind === 'other' && this.on(t, 'event-type-not-past-tense')) this.addBucket(t, 'event-type-not-past-tense', name, type, 'a type that does not name a past fact', s)
    }
  }

  /** version-drift: fields every record of an older version had, that no record of a newer one has. */
  private versionDrift(name: string, t: TopicState): void {
    for (const [type, byVersion] of t.versions) {
      const versions = [...byVersion.keys()].sort((a, b) => a - b)
      const lost = new Map<string, { from: number; to: number; at: Evidence }>()
      for (let i = 0; i < versions.length; i++) {
        const older = byVersion.get(versions[i])!
        for (let j = i + 1; j < versions.length; j++) {
          const newer = byVersion.get(versions[j])!
          for (const f of older.always ?? []) if (!newer.any.has(f) && !lost.has(f)) lost.set(f, { from: versions[i], to: versions[j], at: newer.first })
        }
      }
      if (lost.size === 0) continue
      const key = `version-drift\u0000${name}\u0000${type}`
      let f = this.findings.get(key)
      if (!f) this.findings.set(key, (f = { rule: 'version-drift', severity: t.settings.severity['version-drift'] ?? RULES['version-drift'].severity, topic: name, subject: type, message: 'a newer version drops fields (a breaking change)', count: 0, evidence: [] }))
      else f.message = 'versions going backwards, and a newer version drops fields (a breaking change)'
      for (const [field, l] of lost) {
        f.count++
        if (f.evidence.length < this.evidenceMax) f.evidence.push({ ...l.at, note: `field ${JSON.stringify(field)} of version ${l.from} missing in version ${l.to}` })
      }
    }
  }
}

/** A duration for a note: `90 s`, `5 min`, `3 h`, `2 d`. */
export function formatMs(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`
  return `${Math.round(ms / 86_400_000)} d`
}
