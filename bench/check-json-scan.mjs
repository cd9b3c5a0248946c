#!/usr/bin/env node
// Differential check of the JSON byte scanner behind decodeBytes (src/codec/decode.ts, isJsonText)
// against JSON.parse: both must agree on every input. Runs on the build (dist/).
//
//   node bench/check-json-scan.mjs [iterations]     (default 300000; exits 1 on the first mismatch)
import { decodeBytes, isJsonText } from '../dist/codec/decode.js'

const iterations = Number(process.argv[2] ?? 300_000)
let seed = 12345
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const pick = (xs) => xs[(rand() * xs.length) | 0]

function randomValue(depth) {
  const r = rand()
  if (depth > 4 || r < 0.35) {
    return pick([
      () => String((rand() * 1e6) | 0),
      () => `-${(rand() * 100).toFixed(3)}`,
      () => `${rand().toFixed(2)}e${pick(['', '+', '-'])}${(rand() * 30) | 0}`,
      () => pick(['true', 'false', 'null', '0', '-0', '1E5', '0.5']),
      () => JSON.stringify(pick(['', 'a', 'é✓', '\u2028', '\t', '"q"', '\\', 'x/y', '\ud800', '\u0000', '\u001f', '\u007f'])),
      () => `"\\u${pick(['00e9', 'D83D', 'dE00', 'abcd'])}"`,
    ])()
  }
  const ws = () => pick(['', '', ' ', '\n', '\t', '\r\n '])
  const n = (rand() * 4) | 0
  if (r < 0.7) return `[${ws()}${Array.from({ length: n }, () => `${ws()}${randomValue(depth + 1)}${ws()}`).join(',')}${ws()}]`
  return `{${ws()}${Array.from({ length: n }, () => `${ws()}${JSON.stringify(pick(['a', 'b', '__proto__', 'ü', '']))}${ws()}:${ws()}${randomValue(depth + 1)}${ws()}`).join(',')}${ws()}}`
}

const PIECES = ['{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '-', '+', '.', 'e', 'E', ' ', '\n', '\t', 't', 'r', 'f', 'n', 'x', '\u0001', 'é', '01', '1.', '.5', 'tru', 'nul', '\\u12', '"\\x"']
function mutate(text) {
  const chars = [...text]
  const k = 1 + ((rand() * 3) | 0)
  for (let j = 0; j < k; j++) {
    const at = (rand() * (chars.length + 1)) | 0
    const op = rand()
    if (op < 0.4) chars.splice(at, 1)
    else if (op < 0.8) chars.splice(at, 0, pick(PIECES))
    else chars.splice(at, 1, pick(PIECES))
  }
  return chars.join('')
}

function parses(text) {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

const fixed = ['', ' ', '0', '-', '-0', '00', '1.', '1.e5', '1e', '1e+', '[', ']', '[]', '{}', '[,]', '[1,]', '{"a":1,}', '{"a"}', '{"a":}', '{1:2}', '"\\u00"', '"\\u00zz"', '"abc', 'true ', ' nul', 'nulll', '[1]]', '[[[[[[]]]]]]', '"\t"', '"\\/"',
  '['.repeat(100) + ']'.repeat(100), '['.repeat(100) + ']'.repeat(99), '{"a":'.repeat(40) + '1' + '}'.repeat(40), '[{"a":['.repeat(20) + ']}]'.repeat(20)]
let checked = 0
let jsonCount = 0
for (let it = 0; it < iterations + fixed.length; it++) {
  const base = it < fixed.length ? fixed[it] : randomValue(0)
  const text = it < fixed.length || rand() < 0.3 ? base : mutate(base)
  const bytes = Buffer.from(text, 'utf8')
  const want = parses(bytes.toString('utf8'))
  const got = isJsonText(bytes)
  checked++
  if (want) jsonCount++
  if (want !== got) {
    console.error(`MISMATCH: JSON.parse ${want ? 'accepts' : 'rejects'} but isJsonText says ${got}: ${JSON.stringify(text)}`)
    process.exit(1)
  }
  // decodeBytes: a lazily parsed value equals JSON.parse's
  if (want && it % 50 === 0) {
    const d = decodeBytes(bytes)
    if (d.kind === 'json' && JSON.stringify(d.value) !== JSON.stringify(JSON.parse(text))) {
      console.error(`MISMATCH in decodeBytes value: ${JSON.stringify(text)}`)
      process.exit(1)
    }
  }
}
console.log(`isJsonText agrees with JSON.parse on ${checked} inputs (${jsonCount} valid JSON)`)
