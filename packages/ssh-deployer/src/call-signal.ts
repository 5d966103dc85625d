// One abort listener per caller's signal, however many calls share it. The engine hands a
// batch one signal, and a script may run many commands under one; a listener per call on it
// (the pool's wait for a connection, the command's kill) put N listeners on one AbortSignal:
// Node's MaxListenersExceededWarning past 10, and a linear cost on each add and remove. Each
// call listens on a child signal of its own, from one fan-out per caller signal.
import { type AdapterContext } from '@org/rolling-core'
import { SignalFanout } from '@org/rolling-core/adapter'

const fanouts = new WeakMap<AbortSignal, SignalFanout>()

/** `ctx` with a signal of this call's own (aborted with the caller's); `dispose` when the call is over. */
export function callContext(ctx: AdapterContext): { ctx: AdapterContext; dispose: () => void } {
  let fanout = fanouts.get(ctx.signal)
  if (!fanout) {
    fanout = new SignalFanout(ctx.signal)
    fanouts.set(ctx.signal, fanout)
  }
  const scope = fanout.child(ctx.clock, undefined, 'ssh call')
  return { ctx: { ...ctx, signal: scope.signal }, dispose: scope.dispose }
}
