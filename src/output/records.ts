/**
 * Renderers for records: JSON lines (the `-f json` contract), pretty blocks, raw values and
 * kcat-like templates. Each returns a string or Buffer for one record, newline included.
 */
import chalk from 'chalk'
import { headerText } from '../codec/decode.ts'
import type { DecodedWithText } from '../codec/decode.ts'
import { usageError } from '../errors.ts'
import { escapeControl } from '../util/terminal-text.ts'
import type { Decoded, DecodedRecord } from '../record.ts'
import { recordTimeText } from '../time.ts'

/**
 * The `-f json` line, one per record (documented in README, "JSON output"):
 *
 * `{"topic","partition","offset","timestamp","key","keyEncoding","value","valueEncoding","headers"}`
 *
 * - offset: number; timestamp: epoch ms.
 * - encodings: `json` (the value is the JSON itself, byte-exact), `text` (a JSON string), `base64`
 *   (binary), `null` (no key / a tombstone: `"value": null`, never `""`); through a schema registry
 *   `avro`, `protobuf`, `json-schema` (the decoded value as JSON).
 * - only when they apply: `keySchemaId` / `valueSchemaId` (registry schema id, also on raw bytes
 *   that carry one), `keySchemaGuid` / `valueSchemaGuid` (from a `__value_schema_id` header),
 *   `keyNote` / `valueNote` (how the bytes were read) and `keyError` / `valueError` (why they
 *   were not decoded; the value is then the raw bytes, base64).
 * - JSON is embedded verbatim (no re-serialisation, big integers intact) when its text has no line
 *   breaks and no surrounding whitespace; otherwise it is given as `text` so nothing changes.
 * - headers: `[{"key","value","encoding"}]` in record order, duplicates and null values kept;
 *   encoding `text`, `base64` or `null`.
 */
export function jsonLine(record: DecodedRecord): string {
  const key = encodeForJson(record.keyDecoded, record.key)
  const value = encodeForJson(record.valueDecoded, record.value)
  let headers = '['
  for (let i = 0; i < record.headers.length; i++) {
    const h = record.headers[i]
    const shown = headerText(h.value)
    if (i) headers += ','
    headers += `{"key":${JSON.stringify(h.key)},"value":${shown.value === null ? 'null' : JSON.stringify(shown.value)},"encoding":"${shown.encoding}"}`
  }
  headers += ']'
  return `{"topic":${JSON.stringify(record.topic)},"partition":${record.partition},"offset":${record.offset},"timestamp":${record.timestamp},"key":${key.json},"keyEncoding":"${key.encoding}"${schemaFields('key', record.keyDecoded)},"value":${value.json},"valueEncoding":"${value.encoding}"${schemaFields('value', record.valueDecoded)},"headers":${headers}}\n`
}

/** `,"valueSchemaId":12,"valueNote":"…"`: the registry fields of one side, only those that apply. */
function schemaFields(side: 'key' | 'value', d: Decoded): string {
  if (d.schemaId === undefined && d.note === undefined && d.error === undefined && d.schema?.guid === undefined) return ''
  let out = ''
  if (d.schemaId !== undefined) out += `,"${side}SchemaId":${d.schemaId}`
  if (d.schema?.guid !== undefined) out += `,"${side}SchemaGuid":${JSON.stringify(d.schema.guid)}`
  if (d.note !== undefined) out += `,"${side}Note":${JSON.stringify(d.note)}`
  if (d.error !== undefined) out += `,"${side}Error":${JSON.stringify(d.error)}`
  return out
}

/** How one key or value appears in a JSON line: its JSON text and encoding name. */
export function encodeForJson(decoded: Decoded, bytes: Buffer | null): { json: string; encoding: string } {
  switch (decoded.kind) {
    case 'null':
      return { json: 'null', encoding: 'null' }
    case 'json': {
      const text = (decoded as DecodedWithText).text
      if (text !== undefined && isVerbatimJson(text)) return { json: text, encoding: 'json' }
      if (text !== undefined) return { json: JSON.stringify(text), encoding: 'text' }
      return { json: JSON.stringify(decoded.value), encoding: 'json' }
    }
    case 'json-schema': {
      // the JSON after the framing, verbatim when it is one line (big integers intact)
      const text = (decoded as DecodedWithText).text
      return { json: text !== undefined && isVerbatimJson(text) ? text : JSON.stringify(decoded.value ?? null), encoding: 'json-schema' }
    }
    case 'text':
      return { json: JSON.stringify(decoded.value), encoding: 'text' }
    case 'binary':
      return { json: JSON.stringify((bytes ?? Buffer.alloc(0)).toString('base64')), encoding: 'base64' }
    default:
      return { json: JSON.stringify(decoded.value ?? null), encoding: decoded.kind }
  }
}

function isVerbatimJson(text: string): boolean {
  const first = text.charCodeAt(0)
  const last = text.charCodeAt(text.length - 1)
  if (first <= 32 || last <= 32) return false
  return text.indexOf('\n') === -1 && text.indexOf('\r') === -1
}

/** Options of the pretty renderer. */
export interface PrettyOptions {
  /** Longest value shown, in characters; longer values are cut with a marker giving the full size. */
  maxValueChars?: number
}

/** Human size: 312 B, 4.2 KB, 5.0 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/**
 * Re-indents JSON text without parsing it into JavaScript values, so what is shown is exactly
 * what was written: big integers, `1e400`, `-0`, duplicate keys and key order stay as they are.
 * `text` must be valid JSON (the decoder checked it).
 */
export function indentJsonText(text: string, indent = 2): string {
  let out = ''
  let depth = 0
  const n = text.length
  const newline = () => `\n${' '.repeat(depth * indent)}`
  for (let i = 0; i < n; ) {
    const c = text[i]
    if (c === '"') {
      const start = i++
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      out += text.slice(start, ++i)
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++
    else if (c === '{' || c === '[') {
      let j = i + 1
      while (j < n && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++
      if (text[j] === (c === '{' ? '}' : ']')) {
        out += c + text[j]
        i = j + 1
      } else {
        depth++
        out += c + newline()
        i++
      }
    } else if (c === '}' || c === ']') {
      depth--
      out += newline() + c
      i++
    } else if (c === ',') {
      out += `,${newline()}`
      i++
    } else if (c === ':') {
      out += ': '
      i++
    } else {
      const start = i
      while (i < n && !',:{}[]" \t\n\r'.includes(text[i])) i++
      out += text.slice(start, i)
    }
  }
  return out
}

function shownValue(decoded: Decoded, bytes: Buffer | null): string {
  switch (decoded.kind) {
    case 'null':
      return chalk.dim('(null: tombstone)')
    case 'json': {
      const text = (decoded as DecodedWithText).text
      return text !== undefined ? indentJsonText(text) : JSON.stringify(decoded.value, null, 2)
    }
    case 'text':
      return escapeControl(String(decoded.value))
    case 'binary':
      return chalk.yellow('base64:') + (bytes ?? Buffer.alloc(0)).toString('base64')
    default:
      return JSON.stringify(decoded.value, null, 2)
  }
}

/**
 * One readable block per record: a coloured header line (topic/partition@offset, time, key,
 * size), the headers, then the value (JSON pretty-printed). Huge values are truncated with a
 * visible marker and the full size. Colours follow chalk (NO_COLOR and non-TTY turn them off).
 */
export function prettyRecord(record: DecodedRecord, options: PrettyOptions = {}): string {
  const max = options.maxValueChars ?? 8192
  const size = record.value?.length ?? 0
  const time = recordTimeText(record.timestamp)
  const keyShown = record.keyDecoded.kind === 'null' ? chalk.dim('(no key)') : record.keyDecoded.kind === 'binary' ? `base64:${record.key!.toString('base64')}` : escapeControl(typeof record.keyDecoded.value === 'string' ? record.keyDecoded.value : JSON.stringify(record.keyDecoded.value))
  const lines = [`${chalk.cyan.bold(`${record.topic}/${record.partition}`)}${chalk.dim('@')}${chalk.cyan(record.offset)}  ${chalk.dim(time)}  ${chalk.green('key')} ${keyShown}  ${chalk.dim(`(${formatBytes(size)})`)}`]
  for (const h of record.headers) {
    const shown = headerText(h.value)
    lines.push(`  ${chalk.magenta(escapeControl(h.key))}: ${shown.value === null ? chalk.dim('(null)') : shown.encoding === 'base64' ? `${chalk.yellow('base64:')}${shown.value}` : shown.value}`)
  }
  for (const side of ['key', 'value'] as const) {
    const d = side === 'key' ? record.keyDecoded : record.valueDecoded
    const schema = schemaLine(d)
    if (schema) lines.push(`  ${chalk.blue(`${side} schema`)}: ${schema}`)
    if (d.note) lines.push(`  ${chalk.dim(`${side}: ${escapeControl(d.note)}`)}`)
    if (d.error) lines.push(`  ${chalk.red(`${side === 'key' ? 'key ' : ''}decode: ${escapeControl(d.error)}`)}`)
  }
  let value = shownValue(record.valueDecoded, record.value)
  if (value.length > max) value = `${value.slice(0, max)}\n${chalk.inverse(` … truncated: ${formatBytes(size)} in all; -f json prints it whole `)}`
  lines.push(value.split('\n').map((l) => `  ${l}`).join('\n'))
  return `${lines.join('\n')}\n\n`
}

/** `orders-value v3 · id 12 · avro` (what is known of the schema of one side), or undefined. */
export function schemaLine(d: Decoded): string | undefined {
  if (d.schemaId === undefined && !d.schema) return undefined
  const parts: string[] = []
  if (d.schema?.subject) parts.push(`${d.schema.subject}${d.schema.version !== undefined ? ` v${d.schema.version}` : ''}`)
  if (d.schemaId !== undefined) parts.push(`id ${d.schemaId}`)
  if (d.schema?.guid) parts.push(`guid ${d.schema.guid}`)
  if (d.kind === 'avro' || d.kind === 'protobuf' || d.kind === 'json-schema') parts.push(d.schema?.message ? `${d.kind} ${d.schema.message}` : d.kind)
  return parts.join(' · ')
}

/** `-f raw`: the value bytes as they are, then a newline (a tombstone prints an empty line). */
export function rawRecord(record: DecodedRecord): Buffer {
  return record.value ? Buffer.concat([record.value, NEWLINE]) : NEWLINE
}
const NEWLINE = Buffer.from('\n')

/** The tokens `--template` understands, for help and errors. */
export const TEMPLATE_TOKENS = '%t topic, %p partition, %o offset, %k key, %K key length, %v or %s value, %S value length, %h headers (k=v,…), %T timestamp (ms), %D timestamp (ISO 8601), %% percent; escapes \\n \\t \\\\'

type TemplatePart = string | ((r: DecodedRecord) => string)

function textOf(decoded: Decoded, bytes: Buffer | null): string {
  if (decoded.kind === 'null') return ''
  if (decoded.kind === 'binary') return (bytes ?? Buffer.alloc(0)).toString('base64')
  const withText = decoded as DecodedWithText
  return withText.text ?? (typeof decoded.value === 'string' ? decoded.value : JSON.stringify(decoded.value))
}

/**
 * Compiles a kcat-like template into a renderer. Binary keys/values are shown as base64.
 * @throws EvtError (usage, exit 2) on an unknown token, listing the tokens.
 */
export function compileTemplate(template: string): (record: DecodedRecord) => string {
  const parts: TemplatePart[] = []
  let literal = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i]
    if (c === '\\' && i + 1 < template.length) {
      const n = template[++i]
      literal += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '\\' ? '\\' : `\\${n}`
      continue
    }
    if (c !== '%') {
      literal += c
      continue
    }
    const t = template[++i]
    const token: TemplatePart | undefined = {
      t: (r: DecodedRecord) => r.topic,
      p: (r: DecodedRecord) => String(r.partition),
      o: (r: DecodedRecord) => r.offset,
      k: (r: DecodedRecord) => textOf(r.keyDecoded, r.key),
      K: (r: DecodedRecord) => (r.key === null ? '-1' : String(r.key.length)),
      v: (r: DecodedRecord) => textOf(r.valueDecoded, r.value),
      s: (r: DecodedRecord) => textOf(r.valueDecoded, r.value),
      S: (r: DecodedRecord) => (r.value === null ? '-1' : String(r.value.length)),
      h: (r: DecodedRecord) => r.headers.map((h) => `${h.key}=${headerText(h.value).value ?? ''}`).join(','),
      T: (r: DecodedRecord) => String(r.timestamp),
      D: (r: DecodedRecord) => recordTimeText(r.timestamp),
      '%': '%',
    }[t ?? '']
    if (token === undefined) throw usageError(`template: unknown token "%${t ?? ''}" at position ${i - 1}`, `tokens: ${TEMPLATE_TOKENS}`)
    if (typeof token === 'string') literal += token
    else {
      if (literal) parts.push(literal)
      literal = ''
      parts.push(token)
    }
  }
  if (literal) parts.push(literal)
  return (record) => {
    let out = ''
    for (const p of parts) out += typeof p === 'string' ? p : p(record)
    return out
  }
}

/**
 * The renderer of one record for tail's output: the --template when given, else the format's
 * (json: {@link jsonLine}, raw: {@link rawRecord} bytes, pretty: {@link prettyRecord}).
 * @throws EvtError usage for a template that does not compile.
 */
export function recordRenderer(format: 'pretty' | 'json' | 'raw', template?: string): (r: DecodedRecord) => string | Buffer {
  if (template) return compileTemplate(template)
  if (format === 'json') return jsonLine
  if (format === 'raw') return rawRecord
  return (r) => prettyRecord(r)
}
