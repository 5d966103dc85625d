// The frame every contract suite shares: one fixture per suite (setup in beforeAll,
// teardown in afterAll), stable test names that `skip` can list, and helpers that
// put a real-time bound on adapter calls so a hanging adapter fails instead of stalling.
import { afterAll, afterEach, beforeAll, beforeEach, describe, it, type TestContext } from 'vitest'
import { isAbortError } from '../../errors.js'

export interface ContractOptions<Fixture, TestName extends string> {
  /** Names the adapter in the suite title. */
  name: string
  /** Returns a fresh fixture; called once for the suite. */
  setup: () => Promise<Fixture>
  /** More tests for this adapter, sharing the fixture. */
  additionalTests?: (get: () => Fixture) => void
  /**
   * Contract tests this adapter cannot pass, by stable key (`'held-request'`) or, for suites
   * not yet keyed, by name; say why next to the list.
   */
  skip?: readonly TestName[]
  /** Per-test timeout in ms, for slow real backends. @default 30_000 */
  timeout?: number
}

export type ContractTest = (name: string, fn: (context: TestContext) => Promise<void>) => void

export function contractSuite<Fixture extends { teardown?(): Promise<void> }, TestName extends string>(
  contract: string,
  testNames: Record<string, TestName>,
  options: ContractOptions<Fixture, TestName>,
  body: (test: ContractTest, get: () => Fixture) => void,
): void {
  // Keys are stable across rewording of a test's sentence; sentences are still accepted.
  const keyOf = new Map(Object.entries(testNames).map(([key, name]) => [name as string, key]))
  const known = new Set<string>([...Object.keys(testNames), ...Object.values(testNames)])
  // A stale name in `skip` would silently run the test it meant to skip, or hide a rename.
  const unknown = (options.skip ?? []).filter((name) => !known.has(name))
  if (unknown.length > 0) {
    throw new Error(
      `[rolling:testing] ${contract} suite for ${options.name}: unknown test key(s) in \`skip\`: ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${Object.keys(testNames).join(', ')})`,
    )
  }
  const skipped = new Set<string>(options.skip ?? [])
  const timeout = options.timeout ?? 30_000

  describe(`${contract} contract: ${options.name}`, () => {
    let fixture: Fixture | undefined
    const get = (): Fixture => {
      if (!fixture) throw new Error(`[rolling:testing] the ${contract} fixture of ${options.name} is not set up`)
      return fixture
    }
    beforeAll(async () => {
      fixture = await options.setup()
    }, timeout)
    afterAll(async () => {
      await fixture?.teardown?.()
    }, timeout)
    body((name, fn) => it(name, { timeout, skip: skipped.has(name) || skipped.has(keyOf.get(name) ?? '') }, fn), get)
    options.additionalTests?.(get)
  })
}

// Runner-free, so it lives with the in-memory adapters (`@org/rolling-core/testing`).
export { contractContext } from '../util.js'

/** Settles like `promise`, or rejects with a message saying `what` took longer than `ms` of real time. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BoundExceeded(`${what} did not settle within ${ms}ms`)), ms)
  })
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer))
}

/** Raised by `within`; never an adapter's error, so `rejects` matchers cannot mistake it for one. */
export class BoundExceeded extends Error {
  override name = 'BoundExceeded'
}

/** What a call rejected with (fails the test when it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BoundExceeded) throw error
    return error
  }
  throw new Error('expected the call to reject, but it resolved')
}

export const randomSuffix = (): string => Math.random().toString(36).slice(2, 10)

/** True when `error` is the abort `reason` itself, wraps it, or is an abort error. */
export function isAbortRejection(error: unknown, reason: unknown): boolean {
  return error === reason || isAbortError(error) || (error instanceof Error && error.cause === reason)
}

/**
 * Collects, for each test of the enclosing `describe`, what escapes to the process (an
 * unhandled 'error' event, a rejection nobody awaits): what would end a real rollout with its
 * batch detached. The fault tests expect it empty.
 */
export function catchEscapes(): unknown[] {
  const escaped: unknown[] = []
  const onEscape = (error: unknown) => void escaped.push(error)
  beforeEach(() => {
    escaped.length = 0
    process.on('uncaughtException', onEscape)
    process.on('unhandledRejection', onEscape)
  })
  afterEach(() => {
    process.off('uncaughtException', onEscape)
    process.off('unhandledRejection', onEscape)
  })
  return escaped
}
