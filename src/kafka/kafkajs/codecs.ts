/**
 * Compression codecs for kafkajs: snappy, lz4 and zstd from evt's own codecs
 * (src/codec/compression.ts) registered into kafkajs's codec table, so that kafkajs producers
 * can write those batches. gzip stays kafkajs's own. Installed by the adapter's factory.
 */
import kafkajs from 'kafkajs'
import { compress, decompress, type CompressionCodec } from '../../codec/compression.ts'

/** The codec shape kafkajs expects in `CompressionCodecs[type]`: a factory of {compress, decompress}. */
export type KafkajsCodecFactory = () => {
  /** kafkajs passes its Encoder; the bytes to compress are `encoder.buffer`. */
  compress: (encoder: { buffer: Buffer }) => Promise<Buffer>
  decompress: (buffer: Buffer) => Promise<Buffer>
}

/** The part of kafkajs's default export that {@link registerKafkajsCodecs} touches. */
export interface KafkajsCompressionExports {
  CompressionTypes: { Snappy: number; LZ4: number; ZSTD: number }
  CompressionCodecs: Record<number, unknown>
}

function kafkajsCodec(codec: CompressionCodec): KafkajsCodecFactory {
  return () => ({
    compress: async (encoder) => compress(codec, encoder.buffer),
    decompress: async (buffer) => decompress(codec, buffer),
  })
}

/**
 * Registers snappy, lz4 and zstd in a kafkajs-shaped codec table (default: kafkajs's own).
 * gzip stays kafkajs's own. Idempotent.
 */
export function registerKafkajsCodecs(target: KafkajsCompressionExports = kafkajs as unknown as KafkajsCompressionExports): void {
  const { CompressionTypes: types, CompressionCodecs: codecs } = target
  codecs[types.Snappy] = kafkajsCodec('snappy')
  codecs[types.LZ4] = kafkajsCodec('lz4')
  codecs[types.ZSTD] = kafkajsCodec('zstd')
}
