#!/usr/bin/env node
// Summarises a .cpuprofile (node --cpu-prof): self time by function, and total (inclusive) time
// of the functions that matter, so a profile can be read without DevTools.
//
//   node bench/profile-summary.mjs <file.cpuprofile> [--top 25]
import fs from 'node:fs'

const file = process.argv[2]
const ti = process.argv.indexOf('--top')
const top = ti > 0 ? Number(process.argv[ti + 1]) : 25
const prof = JSON.parse(fs.readFileSync(file, 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const dt = new Map()
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0))
const total = [...dt.values()].reduce((a, b) => a + b, 0)
const label = (n) => {
  const f = n.callFrame
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules\/|dist\/|src\/)/, '$1')}:${f.lineNumber + 1}` : ''
  return `${f.functionName || '(anonymous)'} ${where}`.trim()
}
const self = new Map()
const incl = new Map()
for (const [id, t] of dt) {
  const n = byId.get(id)
  self.set(label(n), (self.get(label(n)) ?? 0) + t)
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur))
    if (seen.has(l)) continue
    seen.add(l)
    incl.set(l, (incl.get(l) ?? 0) + t)
  }
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`)
console.log('\nself time')
for (const [l, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`)
console.log('\ninclusive time')
for (const [l, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`)
