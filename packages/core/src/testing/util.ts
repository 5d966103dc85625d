// Small helpers the in-memory adapters and the contract suites share (child signals and
// raceAbort are core's, in signals.ts).
import type { AdapterContext, Logger } from '../types.js'
import { systemClock } from '../clock.js'

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** A logger that drops everything; the default in test contexts. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
}

/** A context for adapter calls: a live signal, the real clock, a silent logger, then the overrides. */
export function contractContext(base?: Partial<AdapterContext>, extra?: Partial<AdapterContext>): AdapterContext {
  return { signal: new AbortController().signal, clock: systemClock, log: silentLogger, ...base, ...extra }
}
