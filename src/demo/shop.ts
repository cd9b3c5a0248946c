/**
 * A small simulated shop that runs as real producers and consumer groups on a Kafka cluster, so
 * that `evt tail`, `evt trace`, `evt groups` and the DLQ commands have real traffic to show.
 * Used by `npm run demo` (scripts/demo.mjs), by integration tests and by benchmarks.
 *
 * Six services, each a kafkajs client with a producer and one consumer group:
 *
 *   order-service         places OrderPlaced; PaymentCaptured + StockReserved → OrderConfirmed
 *   payment-service       OrderPlaced → PaymentCaptured (seed envelope + traceparent); a payment
 *                         timeout dead-letters the OrderPlaced record like Spring Kafka's
 *                         DeadLetterPublishingRecoverer (to `payments.events-dlt`)
 *   inventory-service     OrderPlaced → StockReserved (CloudEvents, binary mode)
 *   shipping-service      OrderConfirmed → ShipmentCreated (seed envelope + traceparent)
 *   invoice-service       OrderConfirmed → InvoiceIssued (seed envelope, no tracing)
 *   notification-service  ShipmentCreated / InvoiceIssued / SendInvoiceEmail → NotificationSent
 *   loyalty-service       (with `outbox`) OrderConfirmed → LoyaltyPointsEarned through a transactional
 *                         outbox: a row in PostgreSQL's `outbox` table (seed envelope as payload, its
 *                         event id as row id) that the relay (Debezium's outbox event router) publishes
 *                         on `outbox.event.<prefix>customer`
 *
 * With a schema registry (`registry`), two services also write registry-framed records (see
 * schemas.ts): order-service an Avro `Order` per order placed on `orders` (subject
 * `orders-value`, two versions), payment-service a Protobuf `PaymentCaptured` per payment on
 * `payments` (subject `payments-value`). Nothing consumes them; they are there to be decoded.
 *
 * Every request (correlation id `req_…`) starts with one OrderPlaced; each record carries the
 * correlation id and, as causation id, the event id of the record it was made from. Besides
 * healthy requests, one request of each kind goes wrong: a payment timeout (→ DLQ), a duplicate
 * delivery (PaymentCaptured written twice with the same event id), a stalled request (shipping
 * and invoicing consume its OrderConfirmed and never act on it), and a disguised command (an imperative `SendInvoiceEmail` published as an event).
 *
 * With `outbox` the relay has trouble too: it is paused (Connect's REST API) from the first order
 * until `pauseRelayMs` have passed, so the rows wait in the table and then go out in one burst.
 *
 * Rerunnable: topics are created when missing; a consumer group that already exists resumes from
 * its committed offsets, a new one starts at the end offsets taken before this run produced
 * anything, so no request of this run is missed and old ones are not replayed.
 */
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import type { Admin, Consumer, EachMessagePayload, IHeaders, Kafka, Message, Producer } from 'kafkajs'
import {
  cloudEventHeaders,
  newTraceId,
  parseSeedEnvelope,
  seedEnvelope,
  socketReadTimeoutFrames,
  springDltHeaders,
  traceIdOf,
  traceparent,
  type ListenerFailure,
  type SeedEnvelope,
} from './formats.ts'
import { registerShopSchemas, ShopEncoder, type OrderJson, type ShopSchemas } from './schemas.ts'

const { Kafka: KafkaClass, logLevel, Partitioners } = kafkajs

export interface ShopOptions {
  brokers: string[]
  /** Requests (orders) to place; at least 5 (one of each problem plus a healthy one). Default 12. */
  orders?: number
  /** How long the flow may take once the first order is placed, ms. Default 15000. */
  durationMs?: number
  /** Prepended to every topic and consumer group name (tests pass a unique one). Default ''. */
  topicPrefix?: string
  /** Pause between two orders, ms. Default 100. */
  orderIntervalMs?: number
  /** How long to wait for the consumer groups to join, ms. Default 45000. */
  joinTimeoutMs?: number
  /** Progress lines (one per order placed, per problem, per phase). Default: none. */
  log?: (line: string) => void
  /**
   * Schema registry URL (Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`):
   * registers the shop's schemas and writes the Avro and Protobuf topics. Default: none (those
   * topics are created but stay empty).
   */
  registry?: string
  /**
   * Run the loyalty service, which publishes through the transactional outbox of the local cluster
   * (`npm run kafka:up -- --outbox`). Default: none.
   */
  outbox?: ShopOutbox
}

/** The outbox the loyalty service writes to, and its relay. */
export interface ShopOutbox {
  /** postgres:// URL of the database with the `outbox` table (Debezium's layout plus `created_at`). */
  db: string
  /** Kafka Connect REST URL of the relay. Default http://127.0.0.1:8083. */
  connectUrl?: string
  /** The relay's connector. Default `evt-outbox`. */
  connector?: string
  /** Keep the relay paused this long from the first order, ms (0: never paused). Default 0. */
  pauseRelayMs?: number
  /** Called once every row is written while the relay is still paused (e.g. to show `evt outbox check`). */
  whilePaused?: () => Promise<void>
}

/** Topic names (with the prefix). */
export interface ShopTopics {
  orders: string
  payments: string
  inventory: string
  shipping: string
  invoices: string
  notifications: string
  /** Spring Kafka ≥ 3.3 default DLT name: `<topic>-dlt`. */
  paymentsDlt: string
  /** Avro `Order` records, Confluent-framed (subject `<topic>-value`); written only with a registry. */
  ordersAvro: string
  /** Protobuf `PaymentCaptured` records, Confluent-framed (subject `<topic>-value`); written only with a registry. */
  paymentsProtobuf: string
  /** Where the relay publishes the loyalty service's outbox rows (`outbox.event.<prefix>customer`); only with `outbox`. */
  outbox?: string
}

/** Consumer group names (with the prefix). */
export interface ShopGroups {
  order: string
  payment: string
  inventory: string
  shipping: string
  invoice: string
  notification: string
  /** Only with `outbox`. */
  loyalty?: string
}

export type ShopScenario = 'healthy' | 'failed' | 'duplicated' | 'stalled' | 'disguised-command'

export interface ShopRequest {
  correlationId: string
  orderId: string
  scenario: ShopScenario
}

export interface ShopResult {
  topics: ShopTopics
  groups: ShopGroups
  /** Correlation ids of the requests that went through end to end. */
  healthy: string[]
  /** Payment timed out; the OrderPlaced record went to the DLQ. */
  failed: string
  /** PaymentCaptured written twice (same event id). */
  duplicated: string
  /** Shipping and invoicing consumed its OrderConfirmed and never acted on it: nothing follows OrderConfirmed. */
  stalled: string
  /** The invoice service published the command `SendInvoiceEmail` as an event. */
  disguisedCommand: string
  /** Every request of this run, in the order placed. */
  requests: ShopRequest[]
  /** Records written by this run, per topic. */
  produced: Record<string, number>
  /** True when every expected record was written before `durationMs`. */
  completed: boolean
  /** What was still missing when the run stopped (`<correlation id> <event type>`); empty when completed. */
  missing: string[]
  /** Errors the services met while handling records (the run goes on). */
  errors: string[]
  /** The registered subjects and latest schema ids; undefined without `registry`. */
  schemas?: ShopSchemas
  elapsedMs: number
}

const PARTITIONS = 3

const SERVICES = {
  order: 'order-service',
  payment: 'payment-service',
  inventory: 'inventory-service',
  shipping: 'shipping-service',
  invoice: 'invoice-service',
  notification: 'notification-service',
  loyalty: 'loyalty-service',
} as const

/** Topic names for a prefix. */
export function shopTopics(prefix = ''): ShopTopics {
  return {
    orders: `${prefix}orders.events`,
    payments: `${prefix}payments.events`,
    inventory: `${prefix}inventory.events`,
    shipping: `${prefix}shipping.events`,
    invoices: `${prefix}invoices.events`,
    notifications: `${prefix}notifications.events`,
    paymentsDlt: `${prefix}payments.events-dlt`,
    ordersAvro: `${prefix}orders`,
    paymentsProtobuf: `${prefix}payments`,
  }
}

/** Consumer group names for a prefix. */
export function shopGroups(prefix = ''): ShopGroups {
  return {
    order: `${prefix}${SERVICES.order}`,
    payment: `${prefix}${SERVICES.payment}`,
    inventory: `${prefix}${SERVICES.inventory}`,
    shipping: `${prefix}${SERVICES.shipping}`,
    invoice: `${prefix}${SERVICES.invoice}`,
    notification: `${prefix}${SERVICES.notification}`,
  }
}

/** The records each kind of request must leave behind (event type → count; `:` marks a non-record step). */
export function expectedRecords(scenario: ShopScenario): Record<string, number> {
  const confirmed = { OrderPlaced: 1, PaymentCaptured: 1, StockReserved: 1, OrderConfirmed: 1 }
  switch (scenario) {
    case 'healthy':
      return { ...confirmed, ShipmentCreated: 1, InvoiceIssued: 1, NotificationSent: 2 }
    case 'duplicated':
      return { ...confirmed, PaymentCaptured: 2, ShipmentCreated: 1, InvoiceIssued: 1, NotificationSent: 2 }
    case 'failed':
      return { OrderPlaced: 1, StockReserved: 1, ':dead-lettered': 1 }
    case 'stalled':
      return { ...confirmed, ':shipping-skipped': 1, ':invoice-skipped': 1 }
    case 'disguised-command':
      return { ...confirmed, ShipmentCreated: 1, SendInvoiceEmail: 1, NotificationSent: 2 }
  }
}

// --------------------------------------------------------------------------------------------

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** A deadline for a race: its timer does not keep the process alive once the race is decided. */
const deadline = (ms: number): Promise<false> => new Promise((resolve) => setTimeout(() => resolve(false), ms).unref())

/** The last value of a header (kafkajs gives repeated keys as an array), as UTF-8. */
function headerText(headers: IHeaders | undefined, key: string): string | undefined {
  const v = headers?.[key]
  const last = Array.isArray(v) ? v[v.length - 1] : v
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last)
}

/** kafkajs headers (an object) as an ordered list. */
function headerList(headers: IHeaders | undefined): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  for (const [key, v] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.push([key, Buffer.isBuffer(one) ? one : Buffer.from(String(one))])
  }
  return out
}

/** An ordered list as kafkajs headers; kafkajs writes them in key order of first appearance. */
function toHeaders(list: Array<[string, Buffer | string]>): IHeaders {
  const out: Record<string, Buffer | string | Array<Buffer | string>> = {}
  for (const [key, value] of list) {
    const had = out[key]
    out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value]
  }
  return out
}

/** Counts what each request has produced and resolves once all of it is there. */
class Progress {
  readonly produced: Record<string, number> = {}
  private readonly expected = new Map<string, number>()
  private readonly seen = new Map<string, number>()
  private resolveDone: () => void = () => {}
  readonly done: Promise<void> = new Promise((resolve) => {
    this.resolveDone = resolve
  })

  expect(correlationId: string, what: Record<string, number>): void {
    for (const [type, n] of Object.entries(what)) this.expected.set(`${correlationId} ${type}`, n)
  }

  wrote(topic: string, count: number): void {
    this.produced[topic] = (this.produced[topic] ?? 0) + count
  }

  note(correlationId: string, what: string): void {
    const k = `${correlationId} ${what}`
    if (!this.expected.has(k)) return
    this.seen.set(k, (this.seen.get(k) ?? 0) + 1)
    if (this.missing().length === 0) this.resolveDone()
  }

  missing(): string[] {
    const out: string[] = []
    for (const [k, n] of this.expected) {
      const have = this.seen.get(k) ?? 0
      if (have < n) out.push(n > 1 ? `${k} (${have}/${n})` : k)
    }
    return out
  }
}

interface Service {
  name: string
  group: string
  kafka: Kafka
  producer: Producer
  consumer: Consumer
  inputs: string[]
}

/** State the order service keeps per order (in memory; it is a demo). */
interface OrderState {
  correlationId: string
  traceId?: string
  customerId?: string
  total?: { amount: string; currency: string }
  payment?: { eventId: string; paymentId: string }
  stock?: { eventId: string; reservationId: string }
  confirmed: boolean
}

const CATALOG = [
  { sku: 'MUG-CERAMIC-350', cents: 1290 },
  { sku: 'TEE-ORGANIC-M', cents: 2490 },
  { sku: 'BEANS-ESPRESSO-1KG', cents: 2199 },
  { sku: 'GRINDER-HAND-C2', cents: 6900 },
  { sku: 'KETTLE-GOOSENECK', cents: 4850 },
  { sku: 'FILTER-PAPER-100', cents: 590 },
]
const CITIES = [['DE', 'Berlin'], ['FR', 'Lyon'], ['NL', 'Utrecht'], ['ES', 'Valencia'], ['IT', 'Torino'], ['AT', 'Graz']]

const pick = <T>(list: readonly T[]): T => list[randomBytes(1)[0] % list.length]

function orderData(orderId: string, customerId: string): Record<string, unknown> {
  const items = Array.from({ length: 1 + (randomBytes(1)[0] % 3) }, () => {
    const p = pick(CATALOG)
    return { sku: p.sku, quantity: 1 + (randomBytes(1)[0] % 2), unit_price: (p.cents / 100).toFixed(2) }
  })
  const cents = items.reduce((sum, i) => sum + Math.round(Number(i.unit_price) * 100) * i.quantity, 0)
  const [country, city] = pick(CITIES)
  return { order_id: orderId, customer_id: customerId, items, total: { amount: (cents / 100).toFixed(2), currency: 'EUR' }, shipping_address: { country, city } }
}

/** How the payment service's listener fails for the designated order (as Spring reports it). */
function paymentTimeout(groupId: string): ListenerFailure {
  return {
    groupId,
    listenerMethod: 'public void com.shop.payment.OrderPlacedListener.onOrderPlaced(org.apache.kafka.clients.consumer.ConsumerRecord<java.lang.String, java.lang.String>) throws java.io.IOException',
    causeClass: 'java.net.SocketTimeoutException',
    causeMessage: 'Read timed out',
    causeFrames: socketReadTimeoutFrames([
      'com.shop.payment.psp.PspClient.capture(PspClient.java:112)',
      'com.shop.payment.PaymentService.capture(PaymentService.java:58)',
      'com.shop.payment.OrderPlacedListener.onOrderPlaced(OrderPlacedListener.java:41)',
    ]),
  }
}

/** Which request gets which problem: spread over the run, the rest healthy. */
function scenarioPlan(n: number): ShopScenario[] {
  const plan: ShopScenario[] = Array.from({ length: n }, () => 'healthy')
  const problems: ShopScenario[] = ['failed', 'duplicated', 'stalled', 'disguised-command']
  problems.forEach((s, k) => {
    plan[Math.floor((n * (k + 1)) / 5)] = s
  })
  return plan
}

/** Creates the topics that are missing (3 partitions each, the DLT too: Spring keeps the partition number). */
async function ensureTopics(admin: Admin, topics: ShopTopics, log: (line: string) => void): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = Object.values(topics).filter((t) => !existing.has(t))
  if (missing.length === 0) return
  try {
    await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true })
  } catch (err) {
    // Another run may have created some of them in the meantime; and in KRaft new topics' metadata
    // propagates asynchronously, so kafkajs's wait for leaders can see "does not host" for a moment.
    const known = /already exists/i.test(String((err as Error).message)) || (err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION'
    if (!known) throw err
  }
  for (let i = 0; ; i++) {
    const meta = await admin.fetchTopicMetadata({ topics: missing }).catch(() => undefined)
    if (meta?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break
    if (i >= 150) throw new Error(`topics ${missing.join(', ')} have no leaders after 15 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  log(`created topics ${missing.join(', ')}`)
}

/**
 * Per input partition, the first offset this run handles: 0 (everything from the committed
 * offset) for a group that has committed there, else the end offset before this run produced.
 */
async function startFloors(admin: Admin, group: string, inputs: string[]): Promise<Map<string, bigint>> {
  // Right after the topics (or the cluster) were created, leaders and the group coordinator may
  // still be moving in: retry for a few seconds.
  for (let attempt = 1; ; attempt++) {
    try {
      return await readFloors(admin, group, inputs)
    } catch (err) {
      if (attempt >= 12) throw err
      await sleep(Math.min(100 * 2 ** attempt, 2000))
    }
  }
}

async function readFloors(admin: Admin, group: string, inputs: string[]): Promise<Map<string, bigint>> {
  const floors = new Map<string, bigint>()
  const committed = await admin.fetchOffsets({ groupId: group, topics: inputs })
  for (const { topic, partitions } of committed) {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
    for (const p of partitions) floors.set(`${topic}:${p.partition}`, p.offset === '-1' ? (ends.get(p.partition) ?? 0n) : 0n)
  }
  return floors
}

/**
 * Runs the shop: creates topics, starts the six services, places the orders, waits until every
 * expected record is written (or `durationMs` passes), then disconnects everything.
 * @throws when the cluster cannot be reached or topics cannot be created.
 */
export async function runShop(options: ShopOptions): Promise<ShopResult> {
  const started = Date.now()
  const n = options.orders ?? 12
  if (!Number.isInteger(n) || n < 5) throw new RangeError(`orders must be an integer ≥ 5 (one healthy request and four with a problem), got ${n}`)
  const prefix = options.topicPrefix ?? ''
  const durationMs = options.durationMs ?? 15_000
  const log = options.log ?? (() => {})
  const topics = shopTopics(prefix)
  const groups = shopGroups(prefix)
  const progress = new Progress()
  const errors: string[] = []
  const scenarios = new Map<string, ShopScenario>()
  const orders = new Map<string, OrderState>()

  const clientConfig = (clientId: string) => ({
    clientId,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 2000 },
  })

  const admin = new KafkaClass(clientConfig('shop-admin')).admin()
  const services: Service[] = []
  let stopping = false
  try {
    await admin.connect()
    await ensureTopics(admin, topics, log)
    let schemas: ShopSchemas | undefined
    let encoder: ShopEncoder | undefined
    if (options.registry) {
      try {
        schemas = await registerShopSchemas(options.registry, prefix)
        encoder = await ShopEncoder.open(options.registry, schemas)
      } catch (err) {
        throw new Error(`schema registry at ${options.registry}: ${(err as Error).message}`, { cause: err })
      }
      log(`registered ${schemas.orders.subject} (Avro, versions ${schemas.orders.versions.join(', ')}) and ${schemas.payments.subject} (Protobuf); latest ids ${schemas.orders.id} and ${schemas.payments.id}`)
    }

    const make = (key: keyof typeof SERVICES, inputs: string[], idempotent = true): Service => {
      const name = SERVICES[key]
      const group = groups[key] ?? `${prefix}${name}`
      const kafka = new KafkaClass(clientConfig(name))
      const service: Service = {
        name,
        group,
        kafka,
        inputs,
        producer: kafka.producer({
          createPartitioner: Partitioners.DefaultPartitioner,
          allowAutoTopicCreation: false,
          idempotent,
          ...(idempotent ? { maxInFlightRequests: 1 } : {}),
        }),
        consumer: kafka.consumer({
          groupId: group,
          maxWaitTimeInMs: 250,
          sessionTimeout: 10_000,
          heartbeatInterval: 1000,
          allowAutoTopicCreation: false,
          // kafkajs restarts a crashed consumer (e.g. while the group coordinator moves in), but not once we stop.
          retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 2000, restartOnFailure: async () => !stopping },
        }),
      }
      services.push(service)
      return service
    }
    const order = make('order', [topics.payments, topics.inventory])
    // Spring's default producer is not idempotent: a retry after a lost ack writes the record twice.
    const payment = make('payment', [topics.orders], false)
    const inventory = make('inventory', [topics.orders])
    const shipping = make('shipping', [topics.orders])
    const invoice = make('invoice', [topics.orders])
    const notification = make('notification', [topics.shipping, topics.invoices])
    const outbox = options.outbox ? await openShopOutbox(options.outbox, prefix, admin) : undefined
    const loyalty = outbox ? make('loyalty', [topics.orders]) : undefined
    if (outbox) {
      groups.loyalty = loyalty!.group
      topics.outbox = outbox.topic
    }

    const send = async (service: Service, topic: string, messages: Message[], correlationId: string, what: string): Promise<void> => {
      await service.producer.send({ topic, messages })
      progress.wrote(topic, messages.length)
      for (let i = 0; i < messages.length; i++) progress.note(correlationId, what)
    }
    const seed = (key: string, env: SeedEnvelope, headers: Array<[string, string]> = []): Message => ({
      key,
      value: JSON.stringify(env),
      headers: toHeaders(headers),
    })
    /** traceparent for the next hop of a request: same trace id, new span id. */
    const nextHop = (incoming: string | undefined): Array<[string, string]> => [['traceparent', traceparent(traceIdOf(incoming) ?? newTraceId())]]

    // --- order-service: PaymentCaptured + StockReserved → OrderConfirmed ----------------------
    const maybeConfirm = async (orderId: string, state: OrderState, causationId: string): Promise<void> => {
      if (state.confirmed || !state.payment || !state.stock) return
      state.confirmed = true
      const env = seedEnvelope({
        eventType: 'OrderConfirmed',
        aggregateId: orderId,
        aggregateType: 'Order',
        data: { order_id: orderId, customer_id: state.customerId ?? null, payment_id: state.payment.paymentId, reservation_id: state.stock.reservationId, total: state.total ?? null },
        correlationId: state.correlationId,
        causationId,
        publishedBy: order.name,
      })
      await send(order, topics.orders, [seed(orderId, env, [['traceparent', traceparent(state.traceId ?? newTraceId())]])], state.correlationId, 'OrderConfirmed')
    }
    const stateOf = (orderId: string, correlationId: string): OrderState => {
      let s = orders.get(orderId)
      if (!s) orders.set(orderId, (s = { correlationId, confirmed: false }))
      return s
    }
    const handlers = new Map<Service, (p: EachMessagePayload) => Promise<void>>()
    handlers.set(order, async ({ topic, message }) => {
      if (topic === topics.payments) {
        const evt = parseSeedEnvelope(message.value)
        if (evt?.event_type !== 'PaymentCaptured') return
        const orderId = String(evt.data.order_id)
        const state = stateOf(orderId, evt.metadata.correlation_id)
        if (state.payment) {
          if (state.payment.eventId === evt.event_id) log(`${order.name}: PaymentCaptured ${evt.event_id} for ${orderId} seen again (${evt.metadata.correlation_id}), ignored`)
          return
        }
        state.traceId ??= traceIdOf(headerText(message.headers, 'traceparent'))
        state.total ??= { amount: String(evt.data.amount), currency: String(evt.data.currency) }
        state.payment = { eventId: evt.event_id, paymentId: String(evt.data.payment_id) }
        await maybeConfirm(orderId, state, evt.event_id)
      } else {
        if (headerText(message.headers, 'ce_type') !== 'com.shop.inventory.StockReserved') return
        const orderId = headerText(message.headers, 'ce_subject') ?? ''
        const correlationId = headerText(message.headers, 'ce_correlationid') ?? ''
        const eventId = headerText(message.headers, 'ce_id') ?? ''
        const data = JSON.parse(message.value?.toString('utf8') ?? '{}') as { reservation_id?: string }
        const state = stateOf(orderId, correlationId)
        if (state.stock) return
        state.stock = { eventId, reservationId: String(data.reservation_id) }
        await maybeConfirm(orderId, state, eventId)
      }
    })

    // --- payment-service: OrderPlaced → PaymentCaptured, or the DLT -------------------------
    const paymentFailure = paymentTimeout(payment.group)
    handlers.set(payment, async ({ topic, partition, message }) => {
      const evt = parseSeedEnvelope(message.value)
      if (evt?.event_type !== 'OrderPlaced') return
      const cid = evt.metadata.correlation_id
      const incomingTrace = headerText(message.headers, 'traceparent')
      if (scenarios.get(cid) === 'failed') {
        // The PSP call times out on every attempt (DefaultErrorHandler retries; shortened here),
        // then DeadLetterPublishingRecoverer publishes the original record: same key, value and
        // partition number, original headers first, then the kafka_dlt-* headers.
        await sleep(150)
        const headers = springDltHeaders({ topic, partition, offset: message.offset, timestamp: message.timestamp, timestampType: 'CreateTime', headers: headerList(message.headers) }, paymentFailure)
        await send(payment, topics.paymentsDlt, [{ key: message.key, value: message.value, partition, headers: toHeaders(headers) }], cid, ':dead-lettered')
        log(`${payment.name}: payment for ${evt.aggregate_id} timed out (java.net.SocketTimeoutException) → ${topics.paymentsDlt} [${cid}]`)
        return
      }
      const paymentId = `pay_${hex(5)}`
      const total = (evt.data.total ?? {}) as { amount?: string; currency?: string }
      const env = seedEnvelope({
        eventType: 'PaymentCaptured',
        aggregateId: paymentId,
        aggregateType: 'Payment',
        data: { payment_id: paymentId, order_id: evt.aggregate_id, amount: total.amount ?? '0.00', currency: total.currency ?? 'EUR', method: 'card', psp_reference: `psp_${hex(6)}` },
        correlationId: cid,
        causationId: evt.event_id,
        publishedBy: payment.name,
      })
      const record: Message = { ...seed(paymentId, env, nextHop(incomingTrace)), timestamp: String(Date.now()) }
      if (encoder) {
        const cents = Math.round(Number(total.amount ?? '0') * 100)
        const value = encoder.payment({ paymentId, orderId: evt.aggregate_id, amountCents: String(cents), currency: total.currency ?? 'EUR', method: 'CARD', capturedAt: env.occurred_at, pspReference: String(env.data.psp_reference) })
        await send(payment, topics.paymentsProtobuf, [{ key: paymentId, value }], cid, ':payment-recorded')
      }
      await send(payment, topics.payments, [record], cid, 'PaymentCaptured')
      if (scenarios.get(cid) === 'duplicated') {
        // At-least-once: the ack was lost, the producer retried, the broker kept both copies.
        await sleep(40)
        await send(payment, topics.payments, [record], cid, 'PaymentCaptured')
        log(`${payment.name}: PaymentCaptured ${env.event_id} for ${evt.aggregate_id} written twice (retry after a lost ack) [${cid}]`)
      }
    })

    // --- inventory-service: OrderPlaced → StockReserved (CloudEvents binary mode) -------------
    handlers.set(inventory, async ({ message }) => {
      const evt = parseSeedEnvelope(message.value)
      if (evt?.event_type !== 'OrderPlaced') return
      const items = (evt.data.items ?? []) as Array<{ sku: string; quantity: number }>
      const data = {
        reservation_id: `res_${hex(5)}`,
        order_id: evt.aggregate_id,
        items: items.map((i) => ({ sku: i.sku, quantity: i.quantity, warehouse: 'FRA-1' })),
        reserved_until: new Date(Date.now() + 30 * 60_000).toISOString(),
      }
      const headers = cloudEventHeaders({
        source: '/inventory-service',
        type: 'com.shop.inventory.StockReserved',
        subject: evt.aggregate_id,
        correlationId: evt.metadata.correlation_id,
        causationId: evt.event_id,
      })
      await send(inventory, topics.inventory, [{ key: evt.aggregate_id, value: JSON.stringify(data), headers: toHeaders(headers) }], evt.metadata.correlation_id, 'StockReserved')
    })

    // --- shipping-service: OrderConfirmed → ShipmentCreated ----------------------------------
    handlers.set(shipping, async ({ message }) => {
      const evt = parseSeedEnvelope(message.value)
      if (evt?.event_type !== 'OrderConfirmed') return
      const cid = evt.metadata.correlation_id
      if (scenarios.get(cid) === 'stalled') {
        // The bug: this order never gets a shipment; the request stops after OrderConfirmed.
        progress.note(cid, ':shipping-skipped')
        log(`${shipping.name}: OrderConfirmed for ${evt.aggregate_id} never handled; the request stalls [${cid}]`)
        return
      }
      const shipmentId = `shp_${hex(5)}`
      const env = seedEnvelope({
        eventType: 'ShipmentCreated',
        aggregateId: shipmentId,
        aggregateType: 'Shipment',
        data: { shipment_id: shipmentId, order_id: evt.aggregate_id, customer_id: evt.data.customer_id ?? null, carrier: 'DHL', tracking_number: `JJD${String(randomBytes(6).readUIntBE(0, 6)).padStart(15, '0')}` },
        correlationId: cid,
        causationId: evt.event_id,
        publishedBy: shipping.name,
      })
      await send(shipping, topics.shipping, [seed(shipmentId, env, nextHop(headerText(message.headers, 'traceparent')))], cid, 'ShipmentCreated')
    })

    // --- invoice-service (not instrumented for tracing): OrderConfirmed → InvoiceIssued ------
    handlers.set(invoice, async ({ message }) => {
      const evt = parseSeedEnvelope(message.value)
      if (evt?.event_type !== 'OrderConfirmed') return
      const cid = evt.metadata.correlation_id
      if (scenarios.get(cid) === 'stalled') {
        // The same order is on hold for invoicing too: its OrderConfirmed is consumed and dropped.
        progress.note(cid, ':invoice-skipped')
        log(`${invoice.name}: OrderConfirmed for ${evt.aggregate_id} never handled; the request stalls [${cid}]`)
        return
      }
      const invoiceId = `inv_${hex(5)}`
      const total = (evt.data.total ?? {}) as { amount?: string; currency?: string }
      const command = scenarios.get(cid) === 'disguised-command'
      const env = seedEnvelope({
        // The smell: an imperative ("do this") published as if it were a fact.
        eventType: command ? 'SendInvoiceEmail' : 'InvoiceIssued',
        aggregateId: invoiceId,
        aggregateType: 'Invoice',
        data: command
          ? { invoice_id: invoiceId, order_id: evt.aggregate_id, customer_id: evt.data.customer_id ?? null, template: 'invoice-email', attach_pdf: true }
          : { invoice_id: invoiceId, order_id: evt.aggregate_id, customer_id: evt.data.customer_id ?? null, amount: total.amount ?? null, currency: total.currency ?? null, due_date: new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10) },
        correlationId: cid,
        causationId: evt.event_id,
        publishedBy: invoice.name,
      })
      await send(invoice, topics.invoices, [seed(invoiceId, env)], cid, env.event_type)
      if (command) log(`${invoice.name}: published the command SendInvoiceEmail on ${topics.invoices} as if it were an event [${cid}]`)
    })

    // --- loyalty-service (transactional outbox): OrderConfirmed → LoyaltyPointsEarned -----------
    if (loyalty && outbox) {
      handlers.set(loyalty, async ({ message }) => {
        const evt = parseSeedEnvelope(message.value)
        if (evt?.event_type !== 'OrderConfirmed') return
        const cid = evt.metadata.correlation_id
        if (scenarios.get(cid) === 'stalled') return // on hold everywhere downstream
        const customer = String(evt.data.customer_id ?? 'cus_unknown')
        const total = (evt.data.total ?? {}) as { amount?: string }
        const env = seedEnvelope({
          eventType: 'LoyaltyPointsEarned',
          aggregateId: customer,
          aggregateType: 'Customer',
          data: { customer_id: customer, order_id: evt.aggregate_id, points: Math.floor(Number(total.amount ?? 0)) },
          correlationId: cid,
          causationId: evt.event_id,
          publishedBy: loyalty.name,
        })
        await outbox.write(env)
        progress.note(cid, ':outbox-row')
      })
    }

    // --- notification-service: ShipmentCreated / InvoiceIssued / SendInvoiceEmail → NotificationSent
    const templates: Record<string, string> = { ShipmentCreated: 'shipment-created', InvoiceIssued: 'invoice-issued', SendInvoiceEmail: 'invoice-email' }
    handlers.set(notification, async ({ message }) => {
      const evt = parseSeedEnvelope(message.value)
      if (!evt || !(evt.event_type in templates)) return
      const cid = evt.metadata.correlation_id
      const notificationId = `ntf_${hex(5)}`
      const customer = evt.data.customer_id ?? 'unknown'
      const env = seedEnvelope({
        eventType: 'NotificationSent',
        aggregateId: notificationId,
        aggregateType: 'Notification',
        data: { notification_id: notificationId, order_id: evt.data.order_id ?? null, channel: 'email', template: templates[evt.event_type], recipient: `${String(customer)}@customers.shop.example` },
        correlationId: cid,
        causationId: evt.event_id,
        publishedBy: notification.name,
      })
      const incoming = headerText(message.headers, 'traceparent')
      await send(notification, topics.notifications, [seed(notificationId, env, incoming ? nextHop(incoming) : [])], cid, 'NotificationSent')
    })

    // --- start the services ------------------------------------------------------------------
    const joined = services.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.consumer.on(s.consumer.events.GROUP_JOIN, () => resolve())
        }),
    )
    for (const s of services) {
      s.consumer.on(s.consumer.events.CRASH, (e) => {
        if (stopping) return
        const msg = `${s.name}: consumer crashed: ${String((e.payload.error as Error)?.message ?? e.payload.error)}${e.payload.restart ? ' (restarting)' : ''}`
        if (!e.payload.restart) errors.push(msg)
        log(msg)
      })
    }
    // Every start must settle before a failure is thrown, or a consumer could connect after the cleanup.
    const starts = await Promise.allSettled(
      services.map(async (s) => {
        const floors = await startFloors(admin, s.group, s.inputs)
        await s.producer.connect()
        await s.consumer.connect()
        await s.consumer.subscribe({ topics: s.inputs, fromBeginning: true })
        const handle = handlers.get(s)!
        await s.consumer.run({
          eachMessage: async (payload) => {
            const floor = floors.get(`${payload.topic}:${payload.partition}`)
            if (floor !== undefined && BigInt(payload.message.offset) < floor) return // before this group existed
            try {
              await handle(payload)
            } catch (err) {
              const msg = `${s.name}: failed on ${payload.topic}[${payload.partition}]@${payload.message.offset}: ${(err as Error).message}`
              errors.push(msg)
              log(msg)
            }
          },
        })
      }),
    )
    const failedStart = starts.find((r) => r.status === 'rejected')
    if (failedStart) throw failedStart.reason
    const joinTimeoutMs = options.joinTimeoutMs ?? 45_000
    const allJoined = await Promise.race([Promise.all(joined).then(() => true), deadline(joinTimeoutMs)])
    log(allJoined ? `${services.length} consumer groups joined (${Object.values(groups).join(', ')})` : `not every consumer group joined within ${joinTimeoutMs} ms; going on`)

    // --- place the orders --------------------------------------------------------------------
    const requests: ShopRequest[] = scenarioPlan(n).map((scenario) => ({ correlationId: `req_${hex(5)}`, orderId: `ord_${hex(5)}`, scenario }))
    for (const r of requests) {
      scenarios.set(r.correlationId, r.scenario)
      progress.expect(r.correlationId, { ...expectedRecords(r.scenario), ...(outbox && r.scenario !== 'stalled' && r.scenario !== 'failed' ? { ':outbox-row': 1 } : {}) })
    }
    const outboxRows = outbox ? requests.filter((r) => r.scenario !== 'stalled' && r.scenario !== 'failed').length : 0
    const pausedAt = Date.now()
    if (outbox && (options.outbox!.pauseRelayMs ?? 0) > 0) {
      await outbox.pause()
      log(`the outbox relay is paused for ${((options.outbox!.pauseRelayMs ?? 0) / 1000).toFixed(0)} s: ${loyalty!.name}'s rows wait in the table`)
    }
    const flowStarted = Date.now()
    const interval = options.orderIntervalMs ?? 100
    for (const [i, r] of requests.entries()) {
      if (i > 0 && interval > 0) await sleep(interval)
      const customerId = `cus_${hex(4)}`
      const data = orderData(r.orderId, customerId)
      const traceId = newTraceId()
      const state = stateOf(r.orderId, r.correlationId)
      state.traceId = traceId
      state.customerId = customerId
      state.total = data.total as OrderState['total']
      const env = seedEnvelope({ eventType: 'OrderPlaced', aggregateId: r.orderId, aggregateType: 'Order', data, correlationId: r.correlationId, causationId: null, publishedBy: order.name })
      await send(order, topics.orders, [seed(r.orderId, env, [['traceparent', traceparent(traceId)]])], r.correlationId, 'OrderPlaced')
      if (encoder) {
        const address = data.shipping_address as { country: string }
        const value = encoder.order({ order_id: r.orderId, customer_id: customerId, items: data.items as OrderJson['items'], total: state.total!.amount, currency: state.total!.currency, placed_at: env.occurred_at, shipping_country: address.country })
        await send(order, topics.ordersAvro, [{ key: r.orderId, value }], r.correlationId, ':order-recorded')
      }
      log(`${order.name}: OrderPlaced ${r.orderId} [${r.correlationId}]${r.scenario === 'healthy' ? '' : `  (${r.scenario})`}`)
    }

    const completed = await Promise.race([progress.done.then(() => true), deadline(Math.max(0, durationMs - (Date.now() - flowStarted)))])
    if (outbox) {
      const pauseMs = options.outbox!.pauseRelayMs ?? 0
      if (pauseMs > 0) {
        await options.outbox!.whilePaused?.()
        await sleep(Math.max(0, pausedAt + pauseMs - Date.now()))
        await outbox.resume()
        log(`the outbox relay is back: ${outboxRows} rows go out at once`)
      }
      const out = await outbox.waitPublished(admin, outboxRows, 60_000)
      if (out) progress.wrote(outbox.topic, outboxRows)
      log(out ? `the relay published ${outboxRows} ${loyalty!.name} rows on ${outbox.topic}` : `the relay has not published every ${loyalty!.name} row on ${outbox.topic} within 60 s`)
      await outbox.close()
    }
    const missing = progress.missing()
    log(completed ? `all ${requests.length} requests done in ${((Date.now() - flowStarted) / 1000).toFixed(1)} s` : `stopped after ${durationMs} ms with ${missing.length} records missing`)

    const ids = (s: ShopScenario) => requests.filter((r) => r.scenario === s).map((r) => r.correlationId)
    return {
      topics,
      groups,
      healthy: ids('healthy'),
      failed: ids('failed')[0],
      duplicated: ids('duplicated')[0],
      stalled: ids('stalled')[0],
      disguisedCommand: ids('disguised-command')[0],
      requests,
      produced: Object.fromEntries(Object.values(topics).map((t) => [t, progress.produced[t] ?? 0])),
      completed,
      missing,
      errors,
      schemas,
      elapsedMs: Date.now() - started,
    }
  } finally {
    stopping = true
    // Consumers first (they commit what they handled and leave their groups), then producers.
    await Promise.allSettled(services.map((s) => s.consumer.disconnect()))
    await Promise.allSettled(services.map((s) => s.producer.disconnect()))
    await admin.disconnect().catch(() => {})
  }
}

/** The loyalty service's database side: its outbox table, and the relay's REST API (pause, resume). */
interface OpenShopOutbox {
  topic: string
  write(env: SeedEnvelope): Promise<void>
  pause(): Promise<void>
  resume(): Promise<void>
  /** Waits until the outbox topic holds `rows` more records than when it was opened; false after `timeoutMs`. */
  waitPublished(admin: Admin, rows: number, timeoutMs: number): Promise<boolean>
  close(): Promise<void>
}

async function openShopOutbox(options: ShopOutbox, prefix: string, admin: Admin): Promise<OpenShopOutbox> {
  const { default: pg } = await import('pg')
  const db = new pg.Client({ connectionString: options.db, connectionTimeoutMillis: 5000 })
  await db.connect()
  const aggregateType = `${prefix}customer`
  const topic = `outbox.event.${aggregateType}`
  const connector = `${options.connectUrl ?? 'http://127.0.0.1:8083'}/connectors/${options.connector ?? 'evt-outbox'}`
  const rest = async (verb: 'pause' | 'resume', state: string): Promise<void> => {
    const res = await fetch(`${connector}/${verb}`, { method: 'PUT', signal: AbortSignal.timeout(5000) })
    if (res.status >= 300) throw new Error(`the relay's ${verb} answered HTTP ${res.status}`)
    for (let i = 0; i < 100; i++) {
      const status = (await (await fetch(`${connector}/status`, { signal: AbortSignal.timeout(5000) })).json()) as { connector?: { state?: string }; tasks?: Array<{ state?: string }> }
      if (status.connector?.state === state && status.tasks?.every((t) => t.state === state)) return
      await sleep(100)
    }
    throw new Error(`the relay did not reach ${state} within 10 s`)
  }
  const records = async (admin: Admin): Promise<number> => {
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
    } catch {
      return 0 // not created yet: the relay has not published its first row
    }
  }
  const before = await records(admin)
  return {
    topic,
    async write(env) {
      await db.query('INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ($1, $2, $3, $4, $5)', [env.event_id, aggregateType, env.aggregate_id, env.event_type, JSON.stringify(env)])
    },
    pause: () => rest('pause', 'PAUSED'),
    resume: () => rest('resume', 'RUNNING'),
    async waitPublished(admin, rows, timeoutMs) {
      const end = Date.now() + timeoutMs
      for (;;) {
        if ((await records(admin)) >= before + rows) return true
        if (Date.now() > end) return false
        await sleep(250)
      }
    },
    async close() {
      await db.end().catch(() => {})
    },
  }
}
