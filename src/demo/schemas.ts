/**
 * The demo shop's registry schemas and registry-framed records: an Avro `Order` (subject
 * `<prefix>orders-value`, two versions) and a Protobuf `PaymentCaptured` (subject
 * `<prefix>payments-value`), registered through the Confluent Schema Registry REST API
 * (https://docs.confluent.io/platform/current/schema-registry/develop/api.html; Apicurio serves
 * it under `/apis/ccompat/v7`), and records encoded with them by evt's own encoder
 * (src/codec/registry.ts `RecordEncoder`: Confluent framing `0x00` + 4-byte schema id, then the
 * Avro binary, or the Protobuf message indexes and message), as Confluent's serializers write them.
 */
import { RecordEncoder } from '../codec/registry.ts'

/** Avro `com.shop.orders.Order` version 1: an order as placed. */
export const ORDER_AVRO_V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'com.shop.orders',
  doc: 'An order as placed, written by order-service.',
  fields: [
    { name: 'order_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'OrderLine',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'unit_price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
          ],
        },
      },
      default: [],
    },
    { name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'currency', type: 'string', default: 'EUR' },
    { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
}

/** Version 2 (backward compatible): adds the optional `shipping_country` (ISO 3166 alpha-2). */
export const ORDER_AVRO_V2 = {
  ...ORDER_AVRO_V1,
  fields: [...ORDER_AVRO_V1.fields, { name: 'shipping_country', type: ['null', 'string'], default: null }],
}

/** Protobuf `com.shop.payments.PaymentCaptured` (proto3; the first message, index `00`). */
export const PAYMENT_PROTO = `syntax = "proto3";
package com.shop.payments;

import "google/protobuf/timestamp.proto";

message PaymentCaptured {
  string payment_id = 1;
  string order_id = 2;
  int64 amount_cents = 3;
  string currency = 4;
  Method method = 5;
  google.protobuf.Timestamp captured_at = 6;
  string psp_reference = 7;

  enum Method {
    METHOD_UNSPECIFIED = 0;
    CARD = 1;
    PAYPAL = 2;
    SEPA_DEBIT = 3;
  }
}
`

/** Subjects (TopicNameStrategy: `<topic>-value`) and the ids the registry gave. */
export interface ShopSchemas {
  orders: { subject: string; versions: number[]; id: number }
  payments: { subject: string; versions: number[]; id: number }
}

interface SchemaBody {
  schema: string
  schemaType?: 'AVRO' | 'PROTOBUF'
}

async function post(url: string, body: SchemaBody): Promise<{ status: number; json: { id?: number; version?: number; message?: string; error_code?: number } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let json = {}
  try {
    json = JSON.parse(text) as object
  } catch {
    // not JSON: the status says enough
  }
  return { status: res.status, json }
}

/**
 * Registers `body` under `subject` unless the subject already has it (`POST /subjects/{subject}`
 * looks it up first), so reruns add no versions. Returns its id and version.
 * @throws Error when the registry cannot be reached or refuses the schema.
 */
export async function ensureSchema(registryUrl: string, subject: string, body: SchemaBody): Promise<{ id: number; version: number }> {
  const base = `${registryUrl.replace(/\/+$/, '')}/subjects/${encodeURIComponent(subject)}`
  const found = await post(base, body)
  if (found.status === 200 && found.json.id !== undefined && found.json.version !== undefined) return { id: found.json.id, version: found.json.version }
  const made = await post(`${base}/versions`, body)
  if (made.status !== 200 || made.json.id === undefined) throw new Error(`registering ${subject}: HTTP ${made.status} ${made.json.message ?? ''}`.trim())
  const again = await post(base, body)
  return { id: made.json.id, version: again.json.version ?? 0 }
}

/** Registers the shop's schemas (idempotent). @throws Error when the registry refuses or is unreachable. */
export async function registerShopSchemas(registryUrl: string, prefix = ''): Promise<ShopSchemas> {
  const ordersSubject = `${prefix}orders-value`
  const v1 = await ensureSchema(registryUrl, ordersSubject, { schema: JSON.stringify(ORDER_AVRO_V1) })
  const v2 = await ensureSchema(registryUrl, ordersSubject, { schema: JSON.stringify(ORDER_AVRO_V2) })
  const paymentsSubject = `${prefix}payments-value`
  const p = await ensureSchema(registryUrl, paymentsSubject, { schemaType: 'PROTOBUF', schema: PAYMENT_PROTO })
  return {
    orders: { subject: ordersSubject, versions: [v1.version, v2.version], id: v2.id },
    payments: { subject: paymentsSubject, versions: [p.version], id: p.id },
  }
}

/** JSON of an Avro `Order` v2 as `evt tail -f json` shows it (decimals as strings, timestamps ISO 8601). */
export interface OrderJson {
  order_id: string
  customer_id: string
  items: Array<{ sku: string; quantity: number; unit_price: string }>
  total: string
  currency: string
  placed_at: string
  shipping_country: string | null
}

/** proto3 JSON of a `PaymentCaptured` (int64 as a string, enum by name, Timestamp as RFC 3339). */
export interface PaymentJson {
  paymentId: string
  orderId: string
  amountCents: string
  currency: string
  method: 'CARD' | 'PAYPAL' | 'SEPA_DEBIT'
  capturedAt: string
  pspReference: string
}

/** Encodes the shop's framed records with the latest `orders-value` and `payments-value` schemas. */
export class ShopEncoder {
  readonly #orders: RecordEncoder
  readonly #payments: RecordEncoder

  private constructor(orders: RecordEncoder, payments: RecordEncoder) {
    this.#orders = orders
    this.#payments = payments
  }

  /** @throws EvtError when a subject cannot be fetched (see RecordEncoder.open). */
  static async open(registryUrl: string, schemas: ShopSchemas): Promise<ShopEncoder> {
    const open = (subject: string) => RecordEncoder.open({ url: registryUrl }, { value: { subject, version: 'latest' } }, { timeoutMs: 10_000 })
    return new ShopEncoder(await open(schemas.orders.subject), await open(schemas.payments.subject))
  }

  /** `0x00`, schema id, Avro binary of the order. @throws EvtError when it does not fit the schema. */
  order(value: OrderJson): Buffer {
    return this.#orders.encode('value', Buffer.from(JSON.stringify(value)), 1)!
  }

  /** `0x00`, schema id, message index `00`, the Protobuf message. @throws EvtError when it does not fit. */
  payment(value: PaymentJson): Buffer {
    return this.#payments.encode('value', Buffer.from(JSON.stringify(value)), 1)!
  }
}
