import { describe, expect, it } from 'vitest'
import { looksLikeCommand } from '../../src/envelope/index.ts'

describe('looksLikeCommand', () => {
  it.each([
    'ProcessPayment',
    'CreateShipment',
    'SendEmail',
    'process_payment',
    'payment.capture',
    'order.cancel',
    'reserve-inventory',
    'PlaceOrderCommand',
    'ShipOrderCmd',
    'com.acme.orders.PlaceOrder',
    'urn:message:Acme.Orders.Contracts:SubmitOrder',
    'Acme.Orders.Commands.CancelOrder, Acme.Orders, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null',
    'payments.capture_payment',
    'RequestRefund',
    'updateCustomer',
    'Refund',
    'payment.capture.v1',
  ])('%s is a command', (name) => {
    expect(looksLikeCommand(name)).toBe(true)
  })

  it.each([
    'OrderPlaced',
    'PaymentCaptured',
    'order.confirmed',
    'shipment.created',
    'order_placed',
    'EmailSent',
    'InvoicePaid',
    'StockReserved',
    'PaymentRequested',
    'ProcessCompleted',
    'com.acme.orders.api.OrderPlacedEvent',
    'OrderCreatedEvent',
    'SendEmailEvent',
    'Sales.Messages.Events.OrderPlaced',
    'urn:message:Acme.Orders.Contracts:OrderSubmitted',
    'order.updated.v2',
    'TermsAgreed',
    'UserSignedUp',
    'PaymentProcessing',
    'Checkout',
    'OrderShipment',
    '',
    '...',
  ])('%s is not a command', (name) => {
    expect(looksLikeCommand(name)).toBe(false)
  })
})
