/**
 * Schema registry against the real local Apicurio Registry (Confluent-compatible API): records
 * written as real serializers write them (@kafkajs/confluent-schema-registry's own encoder, or
 * hand-built framing for Protobuf index variants), read back through tailRecords and the CLI.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import protobuf from 'protobufjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeSchemaIdHeader } from '../../src/codec/registry-framing.ts'
import type { KafkaSession } from '../../src/kafka/session.ts'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { tailRecords, type TailOptions } from '../../src/services/tail.ts'
import { createTopic, jsonLines, produceFixture, runEvt, testSession, uniqueTopic } from '../support/kafka.ts'

const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7'
const library = new SchemaRegistry({ host: REGISTRY })

function connection(url = REGISTRY): KafkaSession {
  return testSession({ registry: { url } })
}

async function readAll(topic: string, options: Partial<TailOptions> = {}, conn = connection()): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(conn, { topics: [topic], range: parsePositionRange('start:end'), ...options })) out.push(...chunk)
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
}

/** Registers through the REST API (for what the library refuses, e.g. a top-level union). */
async function registerRaw(subject: string, body: { schema: string; schemaType?: string; references?: unknown[] }): Promise<number> {
  const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) })
  const json = (await res.json()) as { id?: number; message?: string }
  if (!res.ok || json.id === undefined) throw new Error(`register ${subject}: ${res.status} ${json.message}`)
  return json.id
}

function frame(id: number, ...parts: Buffer[]): Buffer {
  const prefix = Buffer.alloc(5)
  prefix.writeInt32BE(id, 1)
  return Buffer.concat([prefix, ...parts])
}

/** BigDecimal's unscaled value as Java writes it: minimal big-endian two's complement. */
function javaDecimalBytes(unscaled: bigint): Buffer {
  let len = 1
  while (unscaled < -(1n << BigInt(len * 8 - 1)) || unscaled >= 1n << BigInt(len * 8 - 1)) len++
  const u = unscaled < 0n ? (1n << BigInt(len * 8)) + unscaled : unscaled
  return Buffer.from(u.toString(16).padStart(len * 2, '0'), 'hex')
}

/** A proxy in front of Apicurio: counts requests, can answer GUID lookups, can go down. */
async function registryProxy(guids = new Map<string, number>()): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = []
  const server = http.createServer(async (req, res) => {
    const path = req.url!.replace(/^\/apis\/ccompat\/v7/, '')
    requests.push(path)
    const guid = /^\/schemas\/guids\/([0-9a-f-]+)$/.exec(path)?.[1]
    const upstream = guid ? (guids.has(guid) ? `/schemas/ids/${guids.get(guid)}` : undefined) : path
    if (!upstream) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }))
      return
    }
    const answer = await fetch(`${REGISTRY}${upstream}`)
    const body = await answer.text()
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(guid && answer.ok ? JSON.stringify({ ...JSON.parse(body), id: guids.get(guid) }) : body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

describe('Avro', () => {
  const topic = uniqueTopic('reg-avro')
  const money = { type: 'record', name: 'Money', namespace: 'acme.common', fields: [{ name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 } }, { name: 'currency', type: 'string' }] }
  const order = {
    type: 'record', name: 'Order', namespace: 'acme',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'total', type: 'acme.common.Money' },
      { name: 'rate', type: { type: 'fixed', name: 'Rate', size: 8, logicalType: 'decimal', precision: 12, scale: 6 } },
      { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'seen_at', type: { type: 'long', logicalType: 'timestamp-micros' } },
      { name: 'ship_on', type: { type: 'int', logicalType: 'date' } },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['PLACED', 'PAID'] } },
      { name: 'qty', type: 'long' },
    ],
  }
  let orderId = 0
  let keyId = 0
  let unionId = 0

  beforeAll(async () => {
    await createTopic(topic, 1)
    const moneyId = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify(money) }, { subject: `${topic}-money` })).id
    expect(moneyId).toBeGreaterThan(0)
    orderId = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify(order), references: [{ name: 'acme.common.Money', subject: `${topic}-money`, version: 1 }] }, { subject: `${topic}-value` })).id
    keyId = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'OrderKey', namespace: 'acme', fields: [{ name: 'order_id', type: 'string' }] }) }, { subject: `${topic}-key` })).id
    unionId = await registerRaw(`${topic}-events`, { schema: JSON.stringify(['null', { type: 'record', name: 'Placed', namespace: 'acme', fields: [{ name: 'id', type: 'string' }] }, { type: 'record', name: 'Cancelled', namespace: 'acme', fields: [{ name: 'id', type: 'string' }, { name: 'reason', type: 'string' }] }]) })
    const value = await library.encode(orderId, {
      id: 'o-1',
      total: { amount: javaDecimalBytes(-1234567890123456n), currency: 'EUR' },
      rate: Buffer.from('00000000000f4240', 'hex'),
      placed_at: 1_764_424_800_123,
      seen_at: 1_764_424_800_123_456,
      ship_on: 20_421,
      note: null,
      status: 'PAID',
      qty: 3,
    })
    await produceFixture(topic, [
      { key: await library.encode(keyId, { order_id: 'o-1' }), value },
      { key: 'o-2', value: await library.encode(unionId, { 'acme.Cancelled': { id: 'o-2', reason: 'out of stock' } }) },
      { key: 'o-3', value: frame(987_654_321, Buffer.from('0a', 'hex')) },
      { key: 'o-4', value: '{"plain":"json"}' },
    ])
  })

  it('decimal exact (bytes and fixed), timestamps and date as ISO, enum, nullable union, references; keys on their own', async () => {
    const [r] = await readAll(topic, { maxMessages: 1 })
    expect(r.keyDecoded).toMatchObject({ kind: 'avro', value: { order_id: 'o-1' }, schemaId: keyId, schema: { subject: `${topic}-key`, version: 1 } })
    expect(r.valueDecoded).toMatchObject({ kind: 'avro', schemaId: orderId, schema: { subject: `${topic}-value`, version: 1 } })
    expect(r.valueDecoded.value).toEqual({
      id: 'o-1',
      total: { amount: '-12345678901234.56', currency: 'EUR' },
      rate: '1.000000',
      placed_at: '2025-11-29T14:00:00.123Z',
      seen_at: '2025-11-29T14:00:00.123456Z',
      ship_on: '2025-11-29',
      note: null,
      status: 'PAID',
      qty: 3,
    })
  })

  it('a top-level union says which record it is', async () => {
    const records = await readAll(topic)
    expect(records[1].valueDecoded).toMatchObject({ kind: 'avro', schemaId: unionId, value: { 'acme.Cancelled': { id: 'o-2', reason: 'out of stock' } } })
  })

  it('a schema id that does not exist: shown raw, with the reason', async () => {
    const records = await readAll(topic)
    expect(records[2].valueDecoded).toMatchObject({ kind: 'binary', schemaId: 987_654_321 })
    expect(records[2].valueDecoded.error).toMatch(/^schema id 987654321 not found in the registry \(HTTP 404 40403: No content with ID '987654321' was found\.\)$/)
    expect(records[3].valueDecoded).toMatchObject({ kind: 'json', value: { plain: 'json' }, note: "not Confluent-framed (first byte 0x7b '{'): shown as JSON" })
  })

  it('evt tail -f json: valueEncoding, valueSchemaId; pretty shows subject/version/id', async () => {
    const json = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', REGISTRY])
    expect(json.code).toBe(0)
    const lines = jsonLines(json.stdout)
    expect(lines[0]).toMatchObject({ keyEncoding: 'avro', keySchemaId: keyId, valueEncoding: 'avro', valueSchemaId: orderId })
    expect(json.stdout.split('\n')[0]).toContain('"amount":"-12345678901234.56"')
    expect(lines[2]).toMatchObject({ valueEncoding: 'base64', valueSchemaId: 987_654_321, value: frame(987_654_321, Buffer.from('0a', 'hex')).toString('base64') })
    expect(String(lines[2].valueError)).toMatch(/not found in the registry/)
    expect(lines[3]).toMatchObject({ valueEncoding: 'json', value: { plain: 'json' } })
    const pretty = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'pretty', '--registry', REGISTRY])
    expect(pretty.stdout).toContain(`value schema: ${topic}-value v1 · id ${orderId} · avro`)
    expect(pretty.stdout).toContain(`key schema: ${topic}-key v1 · id ${keyId} · avro`)
    expect(pretty.stdout).toContain('decode: schema id 987654321 not found in the registry')
  })

  it('without --registry: framed bytes are binary with the schema id and a hint', async () => {
    const [r] = await readAll(topic, { maxMessages: 1 }, testSession())
    expect(r.valueDecoded).toMatchObject({ kind: 'binary', schemaId: orderId, note: `starts like a Confluent frame (magic byte 0, schema id ${orderId}); pass --registry to try decoding it` })
  })

  it('evt produce --value-schema/--key-schema writes what the library decodes', async () => {
    const out = uniqueTopic('reg-avro-produce')
    await createTopic(out, 1)
    const value = '{"id":"o-9","total":{"amount":"-0.05","currency":"USD"},"rate":"0.000001","placed_at":"2026-01-02T03:04:05.006Z","seen_at":"2026-01-02T03:04:05.006007Z","ship_on":"2026-01-02","note":"gift","status":"PLACED","qty":3}'
    const big = value.replace('"qty":3', '"qty":9007199254740993')
    const run = await runEvt(['produce', out, '--lines', '-k', '{"order_id":"o-9"}', '--value-schema', `${topic}-value`, '--key-schema', `${topic}-key:1`, '--registry', REGISTRY], { input: `${value}\n${big}\n` })
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/^evt:/m) })
    const [r] = await readAll(out, {}, testSession())
    expect(r.value!.subarray(0, 5)).toEqual(frame(orderId))
    const decoded = (await library.decode(r.value!)) as Record<string, unknown>
    expect((decoded.total as { amount: Buffer }).amount).toEqual(javaDecimalBytes(-5n))
    expect(decoded.placed_at).toBe(Date.parse('2026-01-02T03:04:05.006Z'))
    expect(decoded.note).toBe('gift')
    expect(await library.decode(r.key!)).toEqual({ order_id: 'o-9' })
    // evt reads back exactly what was given (a long beyond 2^53 included: the library cannot read that one)
    const back = await runEvt(['tail', out, '-o', 'start', '-e', '-f', 'json', '--registry', REGISTRY])
    expect(back.stdout).toContain('"qty":9007199254740993')
    expect(back.stdout).toContain('"seen_at":"2026-01-02T03:04:05.006007Z"')
    // input that does not fit: exit 2 with the path
    const bad = await runEvt(['produce', out, '{"id":"x","total":{"amount":"1.234","currency":"EUR"}}', '--value-schema-id', String(orderId), '--registry', REGISTRY])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/value\.total\.amount: .*more than 2 decimal places/)
    const missing = await runEvt(['produce', out, '{}', '--value-schema', `${topic}-nope`, '--registry', REGISTRY])
    expect(missing.code).toBe(4)
  })
})

describe('Protobuf', () => {
  const topic = uniqueTopic('reg-proto')
  const moneyProto = 'syntax = "proto3";\npackage acme.common;\n\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n  int32 nanos = 3;\n}\n'
  const orderProto = `syntax = "proto3";
package acme;

import "acme/common/money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string order_id = 1;
  acme.common.Money total = 2;
  google.protobuf.Timestamp placed_at = 3;
  repeated Line lines = 4;
  Status status = 5;

  message Line {
    string sku = 1;
    int32 qty = 2;
    message Discount { string code = 1; int32 percent = 3; }
  }
  enum Status { UNKNOWN = 0; PLACED = 1; SHIPPED = 2; }
}

message Payment {
  string payment_id = 1;
  uint64 cents = 2;
}
`
  let id = 0
  let simpleId = 0
  let root: protobuf.Root

  /** The message bytes, with protobufjs alone (not evt's encoder). */
  function encode(name: string, value: Record<string, unknown>): Buffer {
    const type = root.lookupType(name)
    return Buffer.from(type.encode(type.fromObject(value)).finish())
  }

  beforeAll(async () => {
    await createTopic(topic, 1)
    await registerRaw(`${topic}-money`, { schemaType: 'PROTOBUF', schema: moneyProto })
    id = await registerRaw(`${topic}-value`, { schemaType: 'PROTOBUF', schema: orderProto, references: [{ name: 'acme/common/money.proto', subject: `${topic}-money`, version: 1 }] })
    simpleId = (await library.register({ type: SchemaType.PROTOBUF, schema: 'syntax = "proto3";\npackage acme;\nmessage Ping { string text = 1; int64 at = 2; }\n' }, { subject: `${topic}-ping` })).id
    root = new protobuf.Root()
    protobuf.parse(orderProto, root, { keepCase: true })
    protobuf.parse(moneyProto, root, { keepCase: true })
    root.addJSON((protobuf.common.get('google/protobuf/timestamp.proto') as { nested: Record<string, protobuf.AnyNestedObject> }).nested)
    const order = encode('acme.Order', { order_id: 'o-1', total: { currency: 'EUR', units: 12, nanos: 500_000_000 }, placed_at: { seconds: 1_764_424_800, nanos: 123_000_000 }, lines: [{ sku: 'a', qty: 2 }], status: 2 })
    const line = encode('acme.Order.Line', { sku: 'b', qty: 3 })
    const discount = encode('acme.Order.Line.Discount', { code: 'X', percent: 10 })
    const payment = encode('acme.Payment', { payment_id: 'p-1', cents: '18446744073709551615' })
    await produceFixture(topic, [
      { key: 'idx 00', value: frame(id, Buffer.from([0x00]), order) },
      { key: 'idx 02 00', value: frame(id, Buffer.from([0x02, 0x00]), order) },
      { key: 'idx 02 02', value: frame(id, Buffer.from([0x02, 0x02]), payment) },
      { key: 'idx 04 00 00', value: frame(id, Buffer.from([0x04, 0x00, 0x00]), line) },
      { key: 'idx 06 00 00 00', value: frame(id, Buffer.from([0x06, 0x00, 0x00, 0x00]), discount) },
      { key: 'library', value: await library.encode(simpleId, { text: 'hi', at: 5 }) },
      { key: 'idx 02 08', value: frame(id, Buffer.from([0x02, 0x08]), order) },
    ])
  })

  it('message indexes in every encoding pick the type; nested types; imports, references, Timestamp', async () => {
    const r = await readAll(topic)
    const order = { orderId: 'o-1', total: { currency: 'EUR', units: '12', nanos: 500_000_000 }, placedAt: '2025-11-29T14:00:00.123Z', lines: [{ sku: 'a', qty: 2 }], status: 'SHIPPED' }
    expect(r[0].valueDecoded).toMatchObject({ kind: 'protobuf', schemaId: id, value: order, schema: { subject: `${topic}-value`, version: 1, message: 'acme.Order' } })
    expect(r[1].valueDecoded).toMatchObject({ kind: 'protobuf', value: order, schema: { message: 'acme.Order' } })
    expect(r[2].valueDecoded).toMatchObject({ kind: 'protobuf', value: { paymentId: 'p-1', cents: '18446744073709551615' }, schema: { message: 'acme.Payment' } })
    expect(r[3].valueDecoded).toMatchObject({ kind: 'protobuf', value: { sku: 'b', qty: 3 }, schema: { message: 'acme.Order.Line' } })
    expect(r[4].valueDecoded).toMatchObject({ kind: 'protobuf', value: { code: 'X', percent: 10 }, schema: { message: 'acme.Order.Line.Discount' } })
  })

  it("@kafkajs/confluent-schema-registry's own encoder (no message indexes) is read as the first message, with a note", async () => {
    const r = (await readAll(topic))[5]
    expect(r.valueDecoded).toMatchObject({ kind: 'protobuf', schemaId: simpleId, value: { text: 'hi', at: '5' }, schema: { message: 'acme.Ping' } })
    expect(r.valueDecoded.note).toMatch(/no message indexes/)
  })

  it('indexes naming no message: shown raw with the reason', async () => {
    const r = (await readAll(topic))[6]
    expect(r.valueDecoded).toMatchObject({ kind: 'binary', schemaId: id })
    expect(r.valueDecoded.error).toMatch(/^protobuf: message indexes \[4\] name no message of the schema/)
  })

  it('evt produce --value-schema encodes the first message with the 00 index', async () => {
    const out = uniqueTopic('reg-proto-produce')
    await createTopic(out, 1)
    const run = await runEvt(['produce', out, '{"orderId":"o-7","total":{"currency":"USD","units":"9007199254740993"},"placed_at":"2026-01-02T03:04:05Z","status":"PLACED"}', '--value-schema', `${topic}-value`, '--registry', REGISTRY])
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/^evt:/m) })
    const [r] = await readAll(out, {}, testSession())
    expect(r.value!.subarray(0, 6)).toEqual(Buffer.concat([frame(id), Buffer.from([0])]))
    const decoded = root.lookupType('acme.Order').toObject(root.lookupType('acme.Order').decode(r.value!.subarray(6)), { longs: String, enums: String })
    expect(decoded).toMatchObject({ order_id: 'o-7', total: { currency: 'USD', units: '9007199254740993' }, placed_at: { seconds: String(Date.parse('2026-01-02T03:04:05Z') / 1000) }, status: 'PLACED' })
  })
})

describe('JSON Schema', () => {
  const topic = uniqueTopic('reg-json')
  const schema = { $schema: 'http://json-schema.org/draft-07/schema#', title: 'Order', type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } }, required: ['id'], additionalProperties: false }
  let id = 0

  beforeAll(async () => {
    await createTopic(topic, 1)
    id = (await library.register({ type: SchemaType.JSON, schema: JSON.stringify(schema) }, { subject: `${topic}-value` })).id
    await produceFixture(topic, [{ key: 'o-1', value: await library.encode(id, { id: 'o-1', total: 12.5 }) }])
  })

  it('shows the JSON, valueEncoding json-schema', async () => {
    const [r] = await readAll(topic)
    expect(r.valueDecoded).toMatchObject({ kind: 'json-schema', schemaId: id, value: { id: 'o-1', total: 12.5 }, schema: { subject: `${topic}-value`, version: 1 } })
    const run = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', REGISTRY])
    expect(run.stdout).toContain(`"value":{"id":"o-1","total":12.5},"valueEncoding":"json-schema","valueSchemaId":${id}`)
  })

  it('evt produce validates against the schema', async () => {
    const ok = await runEvt(['produce', topic, '{"id":"o-2","total":3}', '--value-schema', `${topic}-value`, '--registry', REGISTRY])
    expect(ok.code).toBe(0)
    const bad = await runEvt(['produce', topic, '{"total":"x"}', '--value-schema', `${topic}-value`, '--registry', REGISTRY])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/must have required property 'id'/)
    const records = await readAll(topic)
    expect(records.map((r) => r.valueDecoded.value)).toEqual([{ id: 'o-1', total: 12.5 }, { id: 'o-2', total: 3 }])
  })
})

describe('schema ids in headers (__value_schema_id: 0x01 + GUID)', () => {
  const topic = uniqueTopic('reg-guid')
  const guid = '0f8fad5b-d9cb-469f-a165-70867728950e'
  let id = 0

  beforeAll(async () => {
    await createTopic(topic, 1)
    id = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Ev', namespace: 'acme', fields: [{ name: 'n', type: 'int' }] }) }, { subject: `${topic}-value` })).id
    const data = (await library.encode(id, { n: 300 })).subarray(5) // unframed payload: d8 04
    await produceFixture(topic, [
      { value: data, headers: { __value_schema_id: encodeSchemaIdHeader(guid) } },
      { value: '{"n":1}', headers: { __value_schema_id: encodeSchemaIdHeader(guid) } },
    ])
  })

  it('Apicurio cannot look GUIDs up: says so, and shows the payload as what it is', async () => {
    const r = await readAll(topic)
    expect(r[0].valueDecoded).toMatchObject({ kind: 'binary', schema: { guid } })
    expect(r[0].valueDecoded.note).toBe(`schema GUID ${guid} in header __value_schema_id: this registry cannot look schema GUIDs up (GET /schemas/guids/{guid} → 404; Confluent Schema Registry 8+ can); payload shown as binary`)
    expect(r[1].valueDecoded).toMatchObject({ kind: 'json', value: { n: 1 } })
  })

  it('a registry that can look the GUID up (Confluent 8+, here a proxy in front of Apicurio): decoded', async () => {
    const proxy = await registryProxy(new Map([[guid, id]]))
    try {
      const r = await readAll(topic, {}, connection(proxy.url))
      expect(r[0].valueDecoded).toMatchObject({ kind: 'avro', value: { n: 300 }, schemaId: id, schema: { guid, subject: `${topic}-value`, version: 1 } })
      const line = jsonLines((await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', proxy.url])).stdout)[0]
      expect(line).toMatchObject({ value: { n: 300 }, valueEncoding: 'avro', valueSchemaId: id, valueSchemaGuid: guid })
    } finally {
      await proxy.close()
    }
  })
})

describe('registry lookups, registry down', () => {
  const topic = uniqueTopic('reg-down')
  let a = 0
  let b = 0

  beforeAll(async () => {
    await createTopic(topic, 3)
    a = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'A', namespace: 'acme', fields: [{ name: 'a', type: 'int' }] }) }, { subject: `${topic}-a` })).id
    b = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'B', namespace: 'acme', fields: [{ name: 'b', type: 'string' }] }) }, { subject: `${topic}-b` })).id
    const messages = []
    for (let i = 0; i < 30; i++) messages.push({ partition: i % 3, value: i % 2 ? await library.encode(a, { a: i }) : await library.encode(b, { b: `v${i}` }) })
    await produceFixture(topic, messages)
  })

  it('each schema is fetched once per run, whatever the number of records and partitions', async () => {
    const proxy = await registryProxy()
    try {
      const r = await readAll(topic, {}, connection(proxy.url))
      expect(r).toHaveLength(30)
      expect(r.every((x) => x.valueDecoded.kind === 'avro')).toBe(true)
      expect(proxy.requests.filter((p) => p === `/schemas/ids/${a}`)).toHaveLength(1)
      expect(proxy.requests.filter((p) => p === `/schemas/ids/${b}`)).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  })

  it('registry unreachable: every record shown raw, exactly one warning; --strict exits 3', async () => {
    const run = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', 'http://127.0.0.1:1'])
    expect(run.code).toBe(0)
    const lines = jsonLines(run.stdout)
    expect(lines).toHaveLength(30)
    for (const l of lines) {
      expect(l.valueEncoding).toBe('base64')
      expect(l.valueError).toBe('not decoded: the schema registry is unreachable')
      expect([a, b]).toContain(l.valueSchemaId)
    }
    const warnings = run.stderr.split('\n').filter((l) => l.includes('warning'))
    expect(warnings).toEqual(['evt: warning: cannot reach the schema registry at http://127.0.0.1:1 (ECONNREFUSED): records with schema ids are shown raw from here on (--strict makes this an error)'])
    const strict = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', 'http://127.0.0.1:1', '--strict'])
    expect(strict.code).toBe(3)
    expect(strict.stderr).toMatch(/^evt: cannot reach the schema registry at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/)
  })

  it('a URL that is not the registry API (404 without a registry error) is exit 3 naming the fix; a URL that is no URL is exit 2', async () => {
    const wrong = await runEvt(['schemas', '--registry', 'http://127.0.0.1:8081/wrong'])
    expect(wrong.code).toBe(3)
    expect(wrong.stderr.split('\n').slice(0, 2)).toEqual([
      'evt: listing subjects: the schema registry URL answers 404 without a schema registry error: it is not the registry\'s API',
      '  hint: pass the registry\'s base URL, e.g. http://host:8081 (Confluent) or http://host:8080/apis/ccompat/v7 (Apicurio)',
    ])
    const produce = await runEvt(['produce', topic, '{"a":1}', '--value-schema', `${topic}-a`, '--registry', 'http://127.0.0.1:8081/wrong'])
    expect(produce.code).toBe(3)
    const notUrl = await runEvt(['schemas', '--registry', 'notaurl'])
    expect(notUrl.code).toBe(2)
    expect(notUrl.stderr.split('\n')[0]).toBe('evt: --registry (or EVT_SCHEMA_REGISTRY_URL): "notaurl" is not an http(s) URL')
  })

  it('registry going down mid-tail: cached schemas still decode, new ones are raw, one warning', async () => {
    const live = uniqueTopic('reg-down-live')
    await createTopic(live, 1)
    const proxy = await registryProxy()
    const warnings: string[] = []
    const controller = new AbortController()
    const seen: DecodedRecord[] = []
    const source = tailRecords(connection(proxy.url), { topics: [live], range: parsePositionRange('start'), signal: controller.signal, onWarning: (m) => warnings.push(m) })
    const until = async (n: number) => {
      while (seen.length < n) {
        const next = await source.next()
        if (next.done) return
        seen.push(...next.value)
      }
    }
    try {
      await produceFixture(live, [{ value: await library.encode(a, { a: 1 }) }])
      await until(1)
      expect(seen[0].valueDecoded).toMatchObject({ kind: 'avro', value: { a: 1 } })
      await proxy.close()
      await produceFixture(live, [{ value: await library.encode(a, { a: 2 }) }, { value: await library.encode(b, { b: 'x' }) }, { value: await library.encode(b, { b: 'y' }) }])
      await until(4)
    } finally {
      controller.abort()
      await source.return(undefined)
    }
    expect(seen[1].valueDecoded).toMatchObject({ kind: 'avro', value: { a: 2 } })
    expect(seen[2].valueDecoded).toMatchObject({ kind: 'binary', schemaId: b, error: 'not decoded: the schema registry is unreachable' })
    expect(seen[3].valueDecoded).toMatchObject({ kind: 'binary', schemaId: b })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/cannot reach the schema registry at http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 \(ECONNREFUSED\)/)
  })
})

describe('evt schemas', () => {
  const subject = `${uniqueTopic('reg-schemas')}-value`
  let id = 0

  beforeAll(async () => {
    await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'S', namespace: 'acme', fields: [{ name: 'a', type: 'int' }] }) }, { subject })
    id = (await library.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'S', namespace: 'acme', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: ['null', 'string'], default: null }] }) }, { subject })).id
  })

  it('lists subjects with type, versions and latest id', async () => {
    const run = await runEvt(['schemas', '--registry', REGISTRY, '--json'])
    expect(run.code).toBe(0)
    const list = JSON.parse(run.stdout) as Array<Record<string, unknown>>
    expect(list.find((s) => s.subject === subject)).toEqual({ subject, type: 'avro', versions: [1, 2], latestVersion: 2, latestId: id })
    const table = await runEvt(['schemas', '--registry', REGISTRY])
    expect(table.stdout).toMatch(new RegExp(`${subject}\\s+avro\\s+1-2\\s+2\\s+${id}`))
  })

  it('shows one schema (latest or a version); an unknown subject exits 4', async () => {
    const latest = JSON.parse((await runEvt(['schemas', subject, '--registry', REGISTRY, '--json'])).stdout) as Record<string, unknown>
    expect(latest).toMatchObject({ subject, version: 2, versions: [1, 2], id, type: 'avro', references: [] })
    const first = await runEvt(['schemas', `${subject}:1`, '--registry', REGISTRY])
    expect(first.stdout).toMatch(/version\s+1/)
    expect(first.stdout).toContain('"name": "S"')
    const none = await runEvt(['schemas', `${subject}-nope`, '--registry', REGISTRY])
    expect(none.code).toBe(4)
    const noRegistry = await runEvt(['schemas'], { env: { EVT_SCHEMA_REGISTRY_URL: undefined, EVT_CONFIG: '/nonexistent/evt.yaml' } })
    expect(noRegistry.code).toBe(2)
  })
})
