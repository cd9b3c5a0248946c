import { createRequire } from 'node:module'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import kafkajs from 'kafkajs'
import { compressFrameSync, compressSync as lz4Block } from 'lz4-napi'
import { compressSync as snappyRaw } from 'snappy'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { compress, decompress, type CompressionCodec } from '../../src/codec/compression.ts'
import { registerKafkajsCodecs } from '../../src/kafka/kafkajs/codecs.ts'

const require = createRequire(import.meta.url)

const text = Buffer.from('hello kafka, hello kafka, hello kafka! evt reads lz4 frames.')
/** Incompressible-ish bytes over several 32 KiB / 64 KiB blocks. */
function sample(size: number): Buffer {
  const b = Buffer.alloc(size)
  let x = 12345
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = i % 3 === 0 ? x >>> 24 : 0x41 + (i % 7)
  }
  return b
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])

/** Builds a snappy-java (xerial) stream by hand: magic, version 1, compat 1, [int32 len + raw block]... */
function xerial(blocks: Buffer[]): Buffer {
  const header = Buffer.alloc(16)
  XERIAL_MAGIC.copy(header)
  header.writeInt32BE(1, 8)
  header.writeInt32BE(1, 12)
  const parts: Buffer[] = [header]
  for (const block of blocks) {
    const c = snappyRaw(block)
    const len = Buffer.alloc(4)
    len.writeInt32BE(c.length)
    parts.push(len, c)
  }
  return Buffer.concat(parts)
}

/** xxHash32 (seed 0), for valid LZ4 frame header/block/content checksums. */
function xxh32(b: Buffer): number {
  const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0
  let p = 0
  let h: number
  if (b.length >= 16) {
    let v1 = (P1 + P2) >>> 0, v2 = P2, v3 = 0, v4 = (0 - P1) >>> 0
    for (; p + 16 <= b.length; p += 16) {
      v1 = round(v1, b.readUInt32LE(p))
      v2 = round(v2, b.readUInt32LE(p + 4))
      v3 = round(v3, b.readUInt32LE(p + 8))
      v4 = round(v4, b.readUInt32LE(p + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0
  } else h = P5
  h = (h + b.length) >>> 0
  for (; p + 4 <= b.length; p += 4) h = Math.imul(rotl((h + Math.imul(b.readUInt32LE(p), P3)) >>> 0, 17), P4) >>> 0
  for (; p < b.length; p++) h = Math.imul(rotl((h + Math.imul(b[p], P5)) >>> 0, 11), P1) >>> 0
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

interface FrameOptions { independent?: boolean; blockChecksum?: boolean; contentSize?: boolean; contentChecksum?: boolean; storeUncompressed?: number[] }

/** A valid LZ4 frame built from 64 KiB blocks compressed with lz4-napi's block codec. */
function lz4Frame(data: Buffer, o: FrameOptions = {}): Buffer {
  const flg = 0x40 | (o.independent === false ? 0 : 0x20) | (o.blockChecksum ? 0x10 : 0) | (o.contentSize ? 0x08 : 0) | (o.contentChecksum ? 0x04 : 0)
  const descriptor = Buffer.alloc(o.contentSize ? 10 : 2)
  descriptor[0] = flg
  descriptor[1] = 0x40
  if (o.contentSize) descriptor.writeBigUInt64LE(BigInt(data.length), 2)
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])]
  for (let i = 0, p = 0; p < data.length; i++, p += 65536) {
    const raw = data.subarray(p, p + 65536)
    const stored = o.storeUncompressed?.includes(i)
    const block = stored ? raw : lz4Block(raw).subarray(4)
    const word = Buffer.alloc(4)
    word.writeUInt32LE((block.length | (stored ? 0x80000000 : 0)) >>> 0)
    parts.push(word, block)
    if (o.blockChecksum) {
      const c = Buffer.alloc(4)
      c.writeUInt32LE(xxh32(block))
      parts.push(c)
    }
  }
  parts.push(Buffer.alloc(4)) // end mark
  if (o.contentChecksum) {
    const c = Buffer.alloc(4)
    c.writeUInt32LE(xxh32(data))
    parts.push(c)
  }
  return Buffer.concat(parts)
}

describe('decompress', () => {
  it('gzip (node:zlib), including several concatenated members', () => {
    expect(decompress('gzip', gzipSync(text))).toEqual(text)
    const two = Buffer.concat([gzipSync(Buffer.from('abc')), gzipSync(Buffer.from('def'))])
    expect(decompress('gzip', two).toString()).toBe('abcdef')
  })

  it('zstd: a frame without content size and with a checksum, as the zstd CLI streams it', () => {
    // printf '<text>' | zstd -c
    const fixture = Buffer.from('28b52ffd04585d0100440268656c6c6f206b61666b612c202120657674207265616473206c7a34206672616d65732e010000ce2f97dd6709', 'hex')
    expect(decompress('zstd', fixture)).toEqual(text)
    expect(decompress('zstd', zstdCompressSync(sample(200_000)))).toEqual(sample(200_000))
  })

  it('lz4 frame from the reference lz4 CLI (block checksums, content size, content checksum)', () => {
    // lz4 -BX --content-size
    const fixture = Buffer.from(
      '04224d187c403c00000000000000972a000000df68656c6c6f206b61666b612c200d0005f0082120657674207265616473206c7a34206672616d65732e552116a40000000011601da4',
      'hex',
    )
    expect(decompress('lz4', fixture)).toEqual(text)
    const big = sample(300_000)
    expect(decompress('lz4', compressFrameSync(big))).toEqual(big)
  })

  describe('lz4 frames: the independent-block fast path and the library fallback', () => {
    const lz4Module = require('lz4-napi') as typeof import('lz4-napi')
    afterEach(() => {
      vi.restoreAllMocks()
    })
    const big = sample(200_000) // 4 blocks of 64 KiB

    it('our reference frames are valid for lz4-napi itself', () => {
      expect(lz4Module.decompressFrameSync(lz4Frame(big, { blockChecksum: true, contentSize: true, contentChecksum: true, storeUncompressed: [1] }))).toEqual(big)
    })

    for (const [name, o] of [
      ['plain (Kafka Java)', {}],
      ['block + content checksums, content size', { blockChecksum: true, contentSize: true, contentChecksum: true }],
      ['with a block stored uncompressed', { storeUncompressed: [0, 2] }],
    ] as Array<[string, FrameOptions]>) {
      it(`fast path: ${name}`, () => {
        const fallback = vi.spyOn(lz4Module, 'decompressFrameSync')
        expect(decompress('lz4', lz4Frame(big, o))).toEqual(big)
        expect(decompress('lz4', lz4Frame(text, o))).toEqual(text)
        expect(fallback).not.toHaveBeenCalled()
      })
    }

    it('decodes several concatenated frames', () => {
      const fallback = vi.spyOn(lz4Module, 'decompressFrameSync')
      expect(decompress('lz4', Buffer.concat([lz4Frame(text), lz4Frame(big, { contentChecksum: true })]))).toEqual(Buffer.concat([text, big]))
      expect(fallback).not.toHaveBeenCalled()
    })

    it('falls back to the library for linked blocks', () => {
      const fallback = vi.spyOn(lz4Module, 'decompressFrameSync')
      expect(decompress('lz4', lz4Frame(big, { independent: false }))).toEqual(big)
      expect(fallback).toHaveBeenCalledTimes(1)
    })

    it('reports a corrupt or truncated frame', () => {
      const frame = lz4Frame(big)
      expect(() => decompress('lz4', frame.subarray(0, frame.length - 1000))).toThrow(/lz4/)
      // a block whose first sequence copies from before the start of the output
      const bad = Buffer.concat([frame.subarray(0, 7), Buffer.from([3, 0, 0, 0, 0x0f, 0x10, 0x00]), Buffer.alloc(4)])
      expect(() => decompress('lz4', bad)).toThrow(/lz4/)
      expect(() => decompress('lz4', Buffer.from('not an lz4 frame'))).toThrow(/lz4/)
    })
  })

  it('snappy: raw block (librdkafka) and xerial framing (Java), one or several blocks', () => {
    expect(decompress('snappy', snappyRaw(text))).toEqual(text)
    expect(decompress('snappy', xerial([text]))).toEqual(text)
    const a = sample(32 * 1024)
    const b = sample(1000)
    expect(decompress('snappy', xerial([a, b, text]))).toEqual(Buffer.concat([a, b, text]))
    // an empty xerial stream (header only) is empty data
    expect(decompress('snappy', xerial([])).length).toBe(0)
  })

  it('throws an error naming the codec on corrupt data', () => {
    const junk = Buffer.from('this is not compressed at all')
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as CompressionCodec[]) {
      expect(() => decompress(codec, junk)).toThrow(new RegExp(codec))
    }
    const cut = xerial([text])
    expect(() => decompress('snappy', cut.subarray(0, cut.length - 3))).toThrow(/snappy/)
  })
})

describe('compress', () => {
  const data = sample(100_000)

  it('round-trips every codec', () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as CompressionCodec[]) {
      const c = compress(codec, data)
      expect(c.length).toBeLessThan(data.length)
      expect(decompress(codec, c)).toEqual(data)
    }
  })

  it('snappy writes xerial framing with 32 KiB blocks, like the Java producer', () => {
    const c = compress('snappy', data)
    expect(c.subarray(0, 8)).toEqual(XERIAL_MAGIC)
    expect(c.readInt32BE(8)).toBe(1)
    expect(c.readInt32BE(12)).toBe(1)
    // walk the blocks: 100000 bytes → 4 blocks (3 × 32768 + 1696)
    let p = 16
    const sizes: number[] = []
    while (p < c.length) {
      const len = c.readInt32BE(p)
      sizes.push((require('snappy') as typeof import('snappy')).uncompressSync(c.subarray(p + 4, p + 4 + len), { asBuffer: true }).length)
      p += 4 + len
    }
    expect(sizes).toEqual([32768, 32768, 32768, 1696])
  })

  it('lz4 writes a standard frame: independent blocks, no checksums (as Kafka Java)', () => {
    for (const input of [text, data]) {
      const c = compress('lz4', input)
      expect(c.readUInt32LE(0)).toBe(0x184d2204)
      expect(c[4]).toBe(0x60) // version 01, block independence, no block/content checksum, no content size
      expect([0x40, 0x50, 0x60, 0x70]).toContain(c[5]) // max block 64 KiB..4 MiB: all accepted by Kafka's readers
    }
    expect(compress('lz4', text)[5]).toBe(0x40) // small input: 64 KiB blocks, what Java writes
  })

  it('zstd and gzip write standard frames', () => {
    expect(compress('zstd', data).readUInt32LE(0)).toBe(0xfd2fb528)
    expect(compress('gzip', data).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
  })
})

describe('registerKafkajsCodecs', () => {
  it('fills a codec table with kafkajs-shaped factories', async () => {
    const table: Record<number, unknown> = {}
    registerKafkajsCodecs({ CompressionTypes: { Snappy: 2, LZ4: 3, ZSTD: 4 }, CompressionCodecs: table })
    expect(Object.keys(table).sort()).toEqual(['2', '3', '4'])
    for (const [id, name] of [[2, 'snappy'], [3, 'lz4'], [4, 'zstd']] as const) {
      const codec = (table[id] as () => { compress: (e: { buffer: Buffer }) => Promise<Buffer>; decompress: (b: Buffer) => Promise<Buffer> })()
      const c = await codec.compress({ buffer: text })
      expect(decompress(name, c)).toEqual(text)
      expect(await codec.decompress(c)).toEqual(text)
    }
  })

  it('registers into kafkajs itself so its lookup finds snappy, lz4 and zstd', async () => {
    registerKafkajsCodecs(kafkajs)
    const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
      lookupCodec: (t: number) => { compress: (e: { buffer: Buffer }) => Promise<Buffer>; decompress: (b: Buffer) => Promise<Buffer> }
    }
    const { CompressionTypes } = kafkajs
    for (const t of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = lookupCodec(t)
      expect(await codec.decompress(await codec.compress({ buffer: text }))).toEqual(text)
    }
    // gzip stays kafkajs's own
    expect(await lookupCodec(CompressionTypes.GZIP).decompress(gzipSync(text))).toEqual(text)
  })
})
