import { describe, expect, it } from 'vitest'
import { classifyType, isParticiple, typeWords } from '../../src/lint/names.ts'

describe('classifyType: facts, commands, and neither', () => {
  it.each([
    'OrderPlaced',
    'order.placed',
    'payment_captured',
    'PaymentFailed',
    'OrderShipped',
    'OrderCancelled',
    'UserSignedUp',
    'StockReserved',
    'EmailSent',
    'InvoicePaid',
    'BuildingBuilt',
    'FundsHeld',
    'StatusChangedToPaid',
    'AgentAssignedToIncident',
    'order.payment.captured.v1',
    'OrderPlacedEvent',
    'OrderPlacedIntegrationEvent',
    'PaymentCapturedDomainEvent',
    'OrderPlacedV2',
    'com.shop.inventory.StockReserved',
    'urn:message:Shop.Orders:OrderSubmitted',
    'Shop.Orders.OrderPlaced, Shop.Contracts',
    'PasswordReset',
    'payment-refunded',
    'com.github.pull_request.opened',
    'RecordUpdated',
    'invoice.resent',
    'OrderUnpaid',
  ])('%s is a fact', (name) => {
    expect(classifyType(name)).toBe('fact')
  })

  it.each(['ProcessPayment', 'CreateShipment', 'send-email', 'ReserveStock', 'SendInvoiceEmail', 'PlaceOrderCommand', 'OrderPlacedCommand', 'CapturePaymentCmd', 'process_payment', 'payment.capture', 'com.acme.PlaceOrder', 'ResetPassword', 'CancelOrderV2', 'ChargeCard'])(
    '%s is a command',
    (name) => {
      expect(classifyType(name)).toBe('command')
    },
  )

  it.each(['Refund', 'Shipping', 'OrderSnapshot', 'PriceQuote', 'InvoiceSnapshot', 'OrderStatus', 'CustomerProfile', 'Send', 'Heartbeat', '', 'v1', 'OrderEvent', 'RecordCount'])('%s is neither (a noun, a state, a lone verb)', (name) => {
    expect(classifyType(name)).toBe('other')
  })

  it('words ending in -ed that are not past tense are not facts', () => {
    expect(classifyType('ProductFeed')).toBe('other')
    expect(classifyType('SeedData')).toBe('other')
    expect(classifyType('SpeedLimit')).toBe('other')
    expect(isParticiple('need')).toBe(false)
    expect(isParticiple('needed')).toBe(true)
  })

  it('a form equal to its base is a participle only when not first', () => {
    expect(isParticiple('reset', true)).toBe(false)
    expect(isParticiple('reset', false)).toBe(true)
    expect(classifyType('PriceSet')).toBe('fact')
    expect(classifyType('SetPrice')).toBe('other')
  })

  it('the profile\'s facts and commands win, by full name or last segment, any case', () => {
    expect(classifyType('OrderSnapshot', { facts: ['OrderSnapshot'] })).toBe('fact')
    expect(classifyType('com.shop.PaymentRequest', { commands: ['paymentrequest'] })).toBe('command')
    expect(classifyType('ProcessPayment', { facts: ['ProcessPayment'] })).toBe('fact')
    expect(classifyType('OrderPlaced', { commands: ['OrderPlaced'] })).toBe('command')
  })

  it('splits names into words across cases and namespaces', () => {
    expect(typeWords('com.acme.HTTPRequestSent').words).toEqual(['http', 'request', 'sent'])
    expect(typeWords('order.payment.captured.v1')).toEqual({ words: ['order', 'payment', 'captured'], dottedLowercase: true })
    expect(typeWords('send-email_now').words).toEqual(['send', 'email', 'now'])
  })
})
