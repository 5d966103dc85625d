// RolloutEmitter: typed listeners that can never break a rollout; and the events
// a real rollout over the in-memory fleet emits, in order.
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { type RolloutEvent, type RolloutEventMap, type RolloutEventName, type Target } from '@org/rolling-core'
import { RolloutEmitter } from '../../src/events.js'
import { setup } from '../engine/_fixture.js'

const target: Target = { id: 'web-1', address: '127.100.0.1', port: 8080 }
const warning = (message: string): RolloutEventMap['warning'] => ({ message })
/** Lets rejected listener promises be reported. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.restoreAllMocks()
})

describe('RolloutEmitter', () => {
  it('types listeners by event name', () => {
    const emitter = new RolloutEmitter()
    emitter.on('target:detached', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<RolloutEventMap['target:detached']>()
      expectTypeOf(payload.target).toEqualTypeOf<Target>()
    })
    emitter.once('batch:start', (payload) => {
      expectTypeOf(payload.index).toBeNumber()
    })
    emitter.subscribe((event) => {
      expectTypeOf(event).toEqualTypeOf<RolloutEvent>()
      if (event.type === 'target:failed') expectTypeOf(event.reason).toBeString()
    })
    // @ts-expect-error not an event
    emitter.on('target:exploded', () => {})
    // @ts-expect-error wrong payload
    emitter.emit('target:detached', { target })
    expectTypeOf<RolloutEventName>().toExtend<string>()
  })

  it('calls on() listeners in order with the payload, each time', () => {
    const emitter = new RolloutEmitter()
    const seen: string[] = []
    emitter.on('warning', (p) => seen.push(`a:${p.message}`))
    emitter.on('warning', (p) => seen.push(`b:${p.message}`))
    emitter.emit('warning', warning('1'))
    emitter.emit('warning', warning('2'))
    expect(seen).toEqual(['a:1', 'b:1', 'a:2', 'b:2'])
  })

  it('once() fires once, and its unsubscribe works before it fired', () => {
    const emitter = new RolloutEmitter()
    const once = vi.fn()
    const never = vi.fn()
    emitter.once('warning', once)
    const unsubscribe = emitter.once('warning', never)
    unsubscribe()
    emitter.emit('warning', warning('1'))
    emitter.emit('warning', warning('2'))
    expect(once).toHaveBeenCalledTimes(1)
    expect(once).toHaveBeenCalledWith({ message: '1' })
    expect(never).not.toHaveBeenCalled()
    expect(emitter.listens('warning')).toBe(false)
  })

  it('off() removes a listener, once per registration, and only that listener', () => {
    const emitter = new RolloutEmitter()
    const removed = vi.fn()
    const kept = vi.fn()
    emitter.on('warning', removed)
    emitter.on('warning', removed)
    emitter.on('warning', kept)
    emitter.off('warning', removed)
    emitter.emit('warning', warning('1'))
    expect(removed).toHaveBeenCalledTimes(1)
    emitter.off('warning', removed)
    emitter.emit('warning', warning('2'))
    expect(removed).toHaveBeenCalledTimes(1)
    expect(kept).toHaveBeenCalledTimes(2)
    // Removing what is not there is harmless.
    emitter.off('warning', removed)
    emitter.off('plan', vi.fn())
  })

  it('off() removes a once() listener before it fired', () => {
    const emitter = new RolloutEmitter()
    const listener = vi.fn()
    emitter.once('warning', listener)
    emitter.off('warning', listener)
    emitter.emit('warning', warning('1'))
    expect(listener).not.toHaveBeenCalled()
  })

  it('the function on() returns unsubscribes', () => {
    const emitter = new RolloutEmitter()
    const listener = vi.fn()
    const unsubscribe = emitter.on('warning', listener)
    emitter.emit('warning', warning('1'))
    unsubscribe()
    unsubscribe() // twice is harmless
    emitter.emit('warning', warning('2'))
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it('subscribe() sees every event as a discriminated union, until unsubscribed', () => {
    const emitter = new RolloutEmitter()
    const events: RolloutEvent[] = []
    const unsubscribe = emitter.subscribe((event) => events.push(event))
    emitter.emit('target:detached', { target, batch: 0 })
    emitter.emit('warning', warning('w'))
    unsubscribe()
    emitter.emit('warning', warning('late'))
    expect(events).toEqual([
      { type: 'target:detached', target, batch: 0 },
      { type: 'warning', message: 'w' },
    ])
    expect(emitter.listens('plan')).toBe(false)
  })

  it('a listener that throws does not stop later listeners and is reported as listener:error', () => {
    const emitter = new RolloutEmitter()
    const boom = new Error('boom')
    const later = vi.fn()
    const reports: RolloutEventMap['listener:error'][] = []
    const union: RolloutEvent[] = []
    emitter.on('listener:error', (p) => reports.push(p))
    emitter.on('target:healthy', () => {
      throw boom
    })
    emitter.on('target:healthy', later)
    emitter.subscribe((event) => union.push(event))
    expect(() => emitter.emit('target:healthy', { target, batch: 0, health: { ok: true, status: 200 } })).not.toThrow()
    expect(later).toHaveBeenCalledTimes(1)
    expect(reports).toEqual([{ event: 'target:healthy', error: boom }])
    expect(union.map((e) => e.type)).toEqual(['listener:error', 'target:healthy'])
  })

  it('a subscribe() listener that throws is reported too, and the others still run', () => {
    const emitter = new RolloutEmitter()
    const reports: RolloutEventMap['listener:error'][] = []
    const second = vi.fn()
    emitter.on('listener:error', (p) => reports.push(p))
    emitter.subscribe((event) => {
      if (event.type === 'warning') throw new Error('bad subscriber')
    })
    emitter.subscribe(second)
    emitter.emit('warning', warning('x'))
    expect(second).toHaveBeenCalledWith({ type: 'warning', message: 'x' })
    expect(reports).toHaveLength(1)
    expect(reports[0]?.event).toBe('warning')
    expect(reports[0]?.error).toMatchObject({ message: 'bad subscriber' })
  })

  it('an async listener that rejects is reported as listener:error', async () => {
    const emitter = new RolloutEmitter()
    const reports: RolloutEventMap['listener:error'][] = []
    emitter.on('listener:error', (p) => reports.push(p))
    emitter.on('batch:end', async () => {
      await Promise.resolve()
      throw new Error('async boom')
    })
    emitter.emit('batch:end', { index: 0, total: 1, outcomes: {} })
    expect(reports).toEqual([])
    await flush()
    expect(reports).toHaveLength(1)
    expect(reports[0]?.event).toBe('batch:end')
    expect(reports[0]?.error).toMatchObject({ message: 'async boom' })
  })

  it('a throwing listener:error listener does not loop or throw', () => {
    const emitter = new RolloutEmitter()
    const errorListener = vi.fn(() => {
      throw new Error('me too')
    })
    emitter.on('listener:error', errorListener)
    emitter.on('warning', () => {
      throw new Error('first')
    })
    expect(() => emitter.emit('warning', warning('x'))).not.toThrow()
    expect(errorListener).toHaveBeenCalledTimes(1)
  })

  it('with nobody listening for listener:error, reports through a process warning, not silence', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const emitter = new RolloutEmitter()
    emitter.on('warning', () => {
      throw new Error('unheard')
    })
    expect(() => emitter.emit('warning', warning('x'))).not.toThrow()
    expect(emitWarning).toHaveBeenCalledTimes(1)
    expect(String(emitWarning.mock.calls[0]?.[0])).toContain("'warning'")
    expect(String(emitWarning.mock.calls[0]?.[0])).toContain('unheard')
  })

  it('a listener added during an emit is not called for that emit', () => {
    const emitter = new RolloutEmitter()
    const late = vi.fn()
    emitter.on('warning', () => {
      emitter.on('warning', late)
    })
    emitter.emit('warning', warning('1'))
    expect(late).not.toHaveBeenCalled()
  })
})

/** The event types of a run, without the chatty ones. */
const QUIET = new Set<RolloutEventName>(['log', 'warning', 'target:output', 'listener:error'])

describe('events of a real rollout', () => {
  it('a throwing target:healthy listener does not break the rollout', async () => {
    const fx = setup({ size: 3 })
    const run = fx.run({ batch: 2 })
    const reports: RolloutEventMap['listener:error'][] = []
    run.on('listener:error', (p) => reports.push(p))
    run.on('target:healthy', () => {
      throw new Error('reporter crashed')
    })
    run.on('target:attached', async () => {
      throw new Error('async reporter crashed')
    })
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(result.targets.map((t) => t.outcome)).toEqual(['done', 'done', 'done'])
    expect(fx.fleet.versions()).toEqual(new Map([['v2', 3]]))
    await flush()
    expect(reports.filter((r) => r.event === 'target:healthy')).toHaveLength(3)
    expect(reports.filter((r) => r.event === 'target:attached')).toHaveLength(3)
  })

  it('listeners attached synchronously after rollout() see rollout:start and plan', async () => {
    const fx = setup({ size: 2 })
    const run = fx.run()
    const seen: string[] = []
    let planned: RolloutEventMap['plan'] | undefined
    run.once('rollout:start', (p) => seen.push(`start:${p.service}:${p.ref}:${p.runId === run.runId}`))
    run.on('plan', (p) => {
      planned = p
      seen.push('plan')
    })
    const all: string[] = []
    run.subscribe((e) => all.push(e.type))
    await run.result
    expect(seen).toEqual([`start:${fx.fleet.service}:latest:true`, 'plan'])
    expect(planned?.artifact.version).toBe('v2')
    expect(planned?.batches.map((b) => b.map((t) => t.id))).toEqual([['host-1'], ['host-2']])
    expect(all[0]).toBe('rollout:start')
    expect(all.at(-1)).toBe('rollout:end')
  })

  it('emits the events of one target in order', async () => {
    const fx = setup({ size: 1 })
    const run = fx.run()
    const types: string[] = []
    run.subscribe((event) => {
      if (!QUIET.has(event.type)) types.push(event.type)
    })
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(types).toEqual([
      'rollout:start',
      'plan',
      'batch:start',
      'target:precheck',
      'target:detaching',
      'target:detached',
      'target:deploying',
      'target:deployed',
      'target:healthy',
      'target:attaching',
      'target:attached',
      'batch:end',
      'verify:start',
      'rollout:end',
    ])
  })

  it('on() and subscribe() see the same events, with matching payloads', async () => {
    const fx = setup({ size: 2 })
    const run = fx.run({ batch: 2 })
    const viaOn: string[] = []
    const viaSubscribe: string[] = []
    for (const name of ['batch:start', 'target:detached', 'target:deployed', 'target:attached', 'batch:end'] as const) {
      run.on(name, () => viaOn.push(name))
    }
    run.subscribe((e) => {
      if (['batch:start', 'target:detached', 'target:deployed', 'target:attached', 'batch:end'].includes(e.type)) viaSubscribe.push(e.type)
    })
    let end: RolloutEventMap['rollout:end'] | undefined
    run.on('rollout:end', (p) => {
      end = p
    })
    const result = await run
    expect(viaOn).toEqual(viaSubscribe)
    expect(viaOn.filter((t) => t === 'target:attached')).toHaveLength(2)
    expect(end?.result).toEqual(result)
  })
})
