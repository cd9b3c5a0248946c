import { describe, expect, it } from 'vitest'
import { closeNames } from '../../src/util/did-you-mean.ts'

describe('closeNames', () => {
  const topics = ['invoices.events', 'orders.events', 'orders.events-dlt', 'payments.events', 'shipments.events']

  it('suggests names a typo away, nearest first', () => {
    expect(closeNames('ordres.events', topics)).toEqual(['orders.events'])
    expect(closeNames('payment.events', topics)).toEqual(['payments.events'])
  })

  it('suggests names that contain what was typed (a name typed in part)', () => {
    expect(closeNames('orders', topics)).toEqual(['orders.events', 'orders.events-dlt'])
  })

  it('suggests nothing when nothing is close, instead of the merely nearest name', () => {
    expect(closeNames('nope.topic', topics)).toEqual([])
    expect(closeNames('x', topics)).toEqual([])
  })

  it('keeps at most max names', () => {
    expect(closeNames('events', topics, 2)).toHaveLength(2)
  })
})
