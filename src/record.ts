/**
 * The one record model that flows through every layer (see docs/ARCHITECTURE.md).
 * Decoders add to it; nothing downstream re-parses bytes.
  */
import type { EventMeta } from './envelope/index.ts'

/** A record header: order kept, duplicates kept, null values kept. */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** A record as read from Kafka, before any decoding. */
export interface RawRecord {
  topic: string
  partition: number
  /** Offset as a decimal string (Kafka offsets are int64). */
  offset: string
  /** Record timestamp, epoch ms (CreateTime, or LogAppendTime when the topic says so). */
  timestamp: number
  timestampType?: 'CreateTime' | 'LogAppendTime'
  /** null = no key. */
  key: Buffer | null
  /** null = tombstone (not the same as an empty value). */
  value: Buffer | null
  headers: RecordHeader[]
}

/** What a decoder made of some bytes. A failure is data (`error` set), never an exception. */
export interface Decoded {
  kind: 'null' | 'json' | 'text' | 'binary' | 'avro' | 'protobuf' | 'json-schema'
  /** Parsed JSON / text string / the Buffer itself for binary. */
  value: unknown
  /** Registry schema id, for avro / protobuf / json-schema (also on raw bytes that carry one). */
  schemaId?: number
  /** Where the schema is registered (when the registry says), its GUID, and the Protobuf message used. */
  schema?: { subject?: string; version?: number; guid?: string; message?: string }
  /** Why decoding as the expected kind failed; the raw bytes stay available. */
  error?: string
  /** What is worth knowing about how the bytes were read (framing found, why not decoded). */
  note?: string
}

/** A record after the codec layer (and, where the caller extracted it, its envelope). */
export interface DecodedRecord extends RawRecord {
  keyDecoded: Decoded
  valueDecoded: Decoded
  meta?: EventMeta
}
