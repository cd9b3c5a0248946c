/**
 * parseFailure on the exact header bytes of each framework (MESSAGE-FORMATS.md, "Dead-letter
 * headers"): binary and text numbers, BigInteger timestamps, null-valued headers, duplicates
 * (the last wins) and malformed lengths (noted, never thrown).
 */
import { describe, expect, it } from 'vitest'
import { hasDlqHeaders } from '../../src/dlq/detect.ts'
import { detectFramework, messageGist, parseFailure, simpleClassName, stackCauses } from '../../src/dlq/failure.ts'
import { headers, int64BE } from '../support/fixtures/envelope-record.ts'
import { CONNECT_STACKTRACE, SPRING_STACKTRACE, connectHeaders, genericDlqHeaders, int32BE, javaBigIntegerBytes, massTransitFaultHeaders, smallRyeHeaders, springCloudStreamHeaders, springDltHeaders, springRetryHeaders } from '../support/fixtures/dlq-headers.ts'

const T = 1_700_000_000_000

describe('fixture bytes are the documented ones', () => {
  it('int32/int64 BE and BigInteger.toByteArray()', () => {
    expect(int32BE(3).toString('hex')).toBe('00000003')
    expect(int64BE(42).toString('hex')).toBe('000000000000002a')
    expect(javaBigIntegerBytes(T).toString('hex')).toBe('018bcfe56800')
    expect(javaBigIntegerBytes(0).toString('hex')).toBe('00')
    expect(javaBigIntegerBytes(127).toString('hex')).toBe('7f')
    expect(javaBigIntegerBytes(128).toString('hex')).toBe('0080')
    expect(javaBigIntegerBytes(-1).toString('hex')).toBe('ff')
    expect(javaBigIntegerBytes(-129).toString('hex')).toBe('ff7f')
  })
})

describe('Spring Kafka DeadLetterPublishingRecoverer', () => {
  it('parses binary partition/offset/timestamp, group, exception, cause and stack trace', () => {
    const f = parseFailure(headers(springDltHeaders()))
    expect(f).toEqual({
      framework: 'spring-dlt',
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 42,
      originalTimestamp: T,
      originalTimestampType: 'CreateTime',
      consumerGroup: 'payment-service',
      exception: 'org.springframework.kafka.listener.ListenerExecutionFailedException',
      message: "Listener method 'public void com.acme.payments.PaymentListener.on(java.lang.String)' threw exception",
      cause: 'java.net.SocketTimeoutException',
      causeMessage: 'Read timed out',
      stacktrace: SPRING_STACKTRACE,
      reason: 'SocketTimeoutException: Read timed out',
    })
  })

  it('reads the header bytes exactly as documented (00 00 00 03, 00 … 2a)', () => {
    const f = parseFailure([
      { key: 'kafka_dlt-original-topic', value: Buffer.from('orders') },
      { key: 'kafka_dlt-original-partition', value: Buffer.from([0, 0, 0, 3]) },
      { key: 'kafka_dlt-original-offset', value: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x2a]) },
      { key: 'kafka_dlt-original-timestamp', value: Buffer.from('0000018bcfe56800', 'hex') },
    ])
    expect(f).toMatchObject({ originalPartition: 3, originalOffset: 42, originalTimestamp: T })
  })

  it('leaves the message out when the header is absent (null message)', () => {
    const f = parseFailure(headers(springDltHeaders({ fqcn: 'java.lang.NullPointerException', causeFqcn: null, message: null, stacktrace: null })))
    expect(f.message).toBeUndefined()
    expect(f.exception).toBe('java.lang.NullPointerException')
    expect(f.reason).toBe('NullPointerException')
    expect('message' in f).toBe(false)
  })

  it('duplicated original-* headers (dead-lettered twice): the last one wins', () => {
    const first = springDltHeaders({ topic: 'orders', partition: 1, offset: 7, group: 'g1' })
    const second = springDltHeaders({ topic: 'orders.DLT', partition: 0, offset: 99, group: 'dlt-reprocessor', fqcn: 'java.util.concurrent.TimeoutException', causeFqcn: null, message: 'gave up after 5000 ms', stacktrace: null })
    const f = parseFailure(headers([...first, ...second]))
    expect(f).toMatchObject({ originalTopic: 'orders.DLT', originalPartition: 0, originalOffset: 99, consumerGroup: 'dlt-reprocessor', exception: 'java.util.concurrent.TimeoutException', message: 'gave up after 5000 ms' })
    // cause-fqcn and stacktrace are only in the first set: they stay (last occurrence of each name)
    expect(f.cause).toBe('java.net.SocketTimeoutException')
    expect(f.reason).toBe('TimeoutException: gave up after <n> ms')
  })

  it('key deserialization failures use kafka_dlt-key-exception-* and say keyFailure', () => {
    const f = parseFailure(headers(springDltHeaders({ keyFailure: true, fqcn: 'org.springframework.kafka.support.serializer.DeserializationException', message: 'failed to deserialize; nested exception is java.lang.NumberFormatException', stacktrace: null })))
    expect(f).toMatchObject({ framework: 'spring-dlt', keyFailure: true, exception: 'org.springframework.kafka.support.serializer.DeserializationException', message: 'failed to deserialize; nested exception is java.lang.NumberFormatException' })
  })

  it('an int64 offset beyond 2^53 is kept exact as a string', () => {
    const f = parseFailure(headers(springDltHeaders({ offset: 9_007_199_254_740_993n })))
    expect(f.originalOffset).toBe('9007199254740993')
  })

  it('malformed lengths leave the field undefined and say so, without throwing', () => {
    const f = parseFailure(headers(springDltHeaders({ partition: Buffer.from([0, 3]), offset: Buffer.from([0, 0, 0, 0x2a]) })))
    expect(f.originalPartition).toBeUndefined()
    expect(f.originalOffset).toBeUndefined()
    expect(f.originalTopic).toBe('orders')
    expect(f.warnings).toEqual(['kafka_dlt-original-partition: expected 4 bytes (int32 BE), got 2', 'kafka_dlt-original-offset: expected 8 bytes (int64 BE), got 4'])
    expect(() => parseFailure([{ key: 'kafka_dlt-original-timestamp', value: Buffer.alloc(0) }])).not.toThrow()
    expect(parseFailure([{ key: 'kafka_dlt-original-timestamp', value: Buffer.alloc(0) }]).warnings).toEqual(['kafka_dlt-original-timestamp: expected 8 bytes (int64 BE), got 0'])
  })
})

describe('Spring retry topics', () => {
  it('parses kafka_original-*, kafka_exception-*, 4-byte attempts and BigInteger timestamps', () => {
    const f = parseFailure(headers(springRetryHeaders({ attempts: 3, backoffTimestamp: T + 5000 })))
    expect(f).toEqual({
      framework: 'spring-retry',
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 42,
      originalTimestamp: T,
      originalTimestampType: 'CreateTime',
      exception: 'java.lang.IllegalStateException',
      message: 'inventory service unavailable',
      attempts: 3,
      backoffTimestamp: T + 5000,
      reason: 'IllegalStateException: inventory service unavailable',
    })
  })

  it('reads 1700000000000 from 01 8b cf e5 68 00 and the 1-byte attempts of old versions', () => {
    const f = parseFailure([
      { key: 'retry_topic-attempts', value: Buffer.from([2]) },
      { key: 'retry_topic-original-timestamp', value: Buffer.from([0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]) },
      { key: 'retry_topic-backoff-timestamp', value: Buffer.from([0x01, 0x8b, 0xcf, 0xe5, 0x7b, 0x88]) },
    ])
    expect(f).toMatchObject({ framework: 'spring-retry', attempts: 2, originalTimestamp: T, backoffTimestamp: T + 5000 })
  })

  it('BigInteger sign handling and malformed attempts', () => {
    expect(parseFailure([{ key: 'retry_topic-backoff-timestamp', value: Buffer.from([0xff]) }]).backoffTimestamp).toBe(-1)
    expect(parseFailure([{ key: 'retry_topic-backoff-timestamp', value: Buffer.from([0x00, 0x80]) }]).backoffTimestamp).toBe(128)
    const bad = parseFailure([{ key: 'retry_topic-attempts', value: Buffer.from([0, 2]) }])
    expect(bad.attempts).toBeUndefined()
    expect(bad.warnings).toEqual(['retry_topic-attempts: expected 4 bytes (int32 BE) or 1 byte, got 2'])
  })

  it('a DLT record after retries is spring-dlt and keeps the attempts', () => {
    const f = parseFailure(headers([...springRetryHeaders({ attempts: 4 }), ...springDltHeaders()]))
    expect(f.framework).toBe('spring-dlt')
    expect(f.attempts).toBe(4)
    expect(f.exception).toBe('org.springframework.kafka.listener.ListenerExecutionFailedException')
  })
})

describe('Spring Cloud Stream', () => {
  it('parses x-original-* as int32/int64 BE and x-exception-*', () => {
    const f = parseFailure(headers(springCloudStreamHeaders()))
    expect(f).toMatchObject({
      framework: 'spring-cloud-stream',
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 42,
      originalTimestamp: T,
      originalTimestampType: 'CreateTime',
      exception: 'org.springframework.messaging.converter.MessageConversionException',
      message: 'Cannot convert from [[B] to [com.acme.orders.OrderPlaced]',
      reason: 'MessageConversionException: Cannot convert from [[B] to…',
    })
    expect(f.stacktrace).toContain('KafkaMessageChannelBinder')
  })

  it('a decimal-text partition is malformed for the binder (int32 expected)', () => {
    const f = parseFailure([{ key: 'x-original-partition', value: Buffer.from('3') }, { key: 'x-exception-fqcn', value: Buffer.from('java.lang.RuntimeException') }])
    expect(f.originalPartition).toBeUndefined()
    expect(f.warnings).toEqual(['x-original-partition: expected 4 bytes (int32 BE), got 1'])
  })
})

describe('Kafka Connect', () => {
  it('parses decimal-text partition and offset, connector, task, stage and the root cause from the stack trace', () => {
    const f = parseFailure(headers(connectHeaders()))
    expect(f).toEqual({
      framework: 'kafka-connect',
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 42,
      connector: 'orders-jdbc-sink',
      task: '0',
      stage: 'VALUE_CONVERTER',
      stageClass: 'org.apache.kafka.connect.json.JsonConverter',
      exception: 'org.apache.kafka.connect.errors.DataException',
      message: 'Converting byte[] to Kafka Connect data failed due to serialization error: ',
      cause: 'com.fasterxml.jackson.core.JsonParseException',
      causeMessage: "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
      stacktrace: CONNECT_STACKTRACE,
      reason: 'DataException: Converting byte[] to Kafka Connect data…',
    })
  })

  it('a null-valued exception.message header gives no message', () => {
    const h = headers(connectHeaders({ message: null }))
    expect(h.find((x) => x.key === '__connect.errors.exception.message')!.value).toBeNull()
    const f = parseFailure(h)
    expect(f.message).toBeUndefined()
    expect(f.exception).toBe('org.apache.kafka.connect.errors.DataException')
    expect(f.reason).toBe('DataException')
    expect(f.warnings).toBeUndefined()
  })

  it('a null-valued last duplicate wins over an earlier value', () => {
    const f = parseFailure(headers([...connectHeaders({ message: 'first' }), ['__connect.errors.exception.message', null]]))
    expect(f.message).toBeUndefined()
  })

  it('non-numeric text is noted, and a big offset stays exact', () => {
    const f = parseFailure(headers(connectHeaders({ partition: 'three', offset: '9223372036854775807' })))
    expect(f.originalPartition).toBeUndefined()
    expect(f.originalOffset).toBe('9223372036854775807')
    expect(f.warnings).toEqual(['__connect.errors.partition: expected a decimal number, got "three"'])
  })
})

describe('SmallRye, MassTransit, generic', () => {
  it('SmallRye dead-letter-* with decimal strings, cause and delayed-retry-count', () => {
    const f = parseFailure(headers([['delayed-retry-count', '1'], ['delayed-retry-count', '2'], ...smallRyeHeaders({ cause: 'java.net.ConnectException', causeMessage: 'Connection refused' })]))
    expect(f).toEqual({
      framework: 'smallrye',
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 42,
      exception: 'org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException',
      message: 'com.acme.stock.StockClient#reserve timed out',
      cause: 'java.net.ConnectException',
      causeMessage: 'Connection refused',
      attempts: 2,
      reason: 'TimeoutException: com.acme.stock.StockClient#reserve timed out',
    })
  })

  it('MassTransit MT-Fault-* with retry and redelivery counts', () => {
    const f = parseFailure(headers(massTransitFaultHeaders()))
    expect(f).toMatchObject({ framework: 'masstransit', exception: 'System.TimeoutException', message: 'The operation has timed out.', stage: 'fault', attempts: 3, redeliveries: 1, reason: 'TimeoutException: The operation has timed out.' })
    expect(f.stacktrace).toContain('PaymentConsumer.Consume')
  })

  it('generic x-original-topic, with text or binary partition and offset', () => {
    expect(parseFailure(headers(genericDlqHeaders('orders')))).toEqual({ framework: 'generic', originalTopic: 'orders' })
    expect(parseFailure(headers(genericDlqHeaders('orders', [['x-original-partition', '3'], ['x-original-offset', '42']])))).toMatchObject({ originalPartition: 3, originalOffset: 42 })
    expect(parseFailure(headers(genericDlqHeaders('orders', [['x-original-partition', int32BE(3)], ['x-original-offset', int64BE(42)]])))).toMatchObject({ originalPartition: 3, originalOffset: 42 })
  })

  it('no dead-letter headers: unknown, nothing else', () => {
    expect(parseFailure(headers([['content-type', 'application/json']]))).toEqual({ framework: 'unknown' })
    expect(parseFailure([])).toEqual({ framework: 'unknown' })
  })

  it('header names match case-insensitively', () => {
    expect(parseFailure(headers([['mt-fault-exceptiontype', 'System.InvalidOperationException']])).exception).toBe('System.InvalidOperationException')
  })
})

describe('framework choice and helpers', () => {
  it('the most recent dead-lettering (last family) wins; generic loses to any framework', () => {
    expect(detectFramework(headers([...connectHeaders(), ...springDltHeaders()]))).toBe('spring-dlt')
    expect(detectFramework(headers([...springDltHeaders(), ...connectHeaders()]))).toBe('kafka-connect')
    expect(detectFramework(headers([...smallRyeHeaders(), ['x-original-topic', 'orders']]))).toBe('smallrye')
    expect(detectFramework(headers([...springDltHeaders(), ...springRetryHeaders()]))).toBe('spring-dlt')
  })

  it('simple class names, message gists and stack causes', () => {
    expect(simpleClassName('java.net.SocketTimeoutException')).toBe('SocketTimeoutException')
    expect(simpleClassName('System.TimeoutException')).toBe('TimeoutException')
    expect(messageGist('Order 10424 not found for customer 7f3c9a1e-1111-4222-8333-444455556666')).toBe('Order <n> not found for customer…')
    expect(messageGist('HTTP 503')).toBe('HTTP 503')
    expect(stackCauses(SPRING_STACKTRACE)).toEqual([{ cause: 'java.net.SocketTimeoutException', message: 'Read timed out' }])
    expect(stackCauses('System.Exception: outer ---> x\n ---> System.TimeoutException: inner')).toEqual([{ cause: 'System.TimeoutException', message: 'inner' }])
  })

  it('hasDlqHeaders recognises dead-letter headers and nothing else', () => {
    expect(hasDlqHeaders(headers(springDltHeaders()))).toBe(true)
    expect(hasDlqHeaders(headers(connectHeaders({ topic: 'payments' })))).toBe(true)
    expect(hasDlqHeaders(headers([['content-type', 'x']]))).toBe(false)
  })
})

const SPRING_DLT_MESSAGE = "Listener method 'public void com.acme.payments.PaymentListener.on(java.lang.String)' threw exception"
