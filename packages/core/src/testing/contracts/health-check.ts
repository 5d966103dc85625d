// The shared contract suite for HealthCheck adapters. The fixture names four targets
// that behave as real hosts do: one healthy, one answering 500, one that never
// answers and one with nothing listening. A check must never hang and never reject
// for an unhealthy target; only an abort rejects.
import { expect } from 'vitest'
import type { AdapterContext, HealthCheck, Target } from '../../types.js'
import { contractContext, contractSuite, isAbortRejection, rejection, within, type ContractOptions } from './suite.js'

export interface HealthCheckFixture {
  check: HealthCheck
  /** Answers 200 (with `expectedVersion`, when given). */
  healthy: Target
  /** Answers 500. */
  failing: Target
  /** Accepts the request and never answers. */
  hanging: Target
  /** Nothing listening: the connection is refused. */
  refused: Target
  /** The version `healthy` reports; checked when given. */
  expectedVersion?: string
  /** The timeout `check` was configured with. */
  timeoutMs: number
  ctx?: Partial<AdapterContext>
  teardown?(): Promise<void>
}

export const healthCheckTests = {
  healthy: 'a healthy target is ok with status 200',
  failing: 'a target answering 500 is not ok with status 500',
  hanging: 'a target that never answers is not ok once the timeout passes',
  refused: 'a refused connection is not ok and does not reject',
  abort: 'abort rejects the check',
} as const

export type HealthCheckTestName = (typeof healthCheckTests)[keyof typeof healthCheckTests]

// Slack for the adapter's own scheduling on top of its timeout.
const GRACE_MS = 2000

export function testHealthCheck(options: ContractOptions<HealthCheckFixture, HealthCheckTestName>): void {
  const t = healthCheckTests
  contractSuite('HealthCheck', t, options, (test, get) => {
    const check = (target: Target, extra?: Partial<AdapterContext>) => {
      const { timeoutMs } = get()
      return within(timeoutMs + GRACE_MS, `check of ${target.id}`, get().check.check(target, contractContext(get().ctx, extra)))
    }

    test(t.healthy, async () => {
      const health = await check(get().healthy)
      expect(health.ok).toBe(true)
      expect(health.status).toBe(200)
      const { expectedVersion } = get()
      if (expectedVersion !== undefined) expect(health.version).toBe(expectedVersion)
    })

    test(t.failing, async () => {
      const health = await check(get().failing)
      expect(health.ok).toBe(false)
      expect(health.status).toBe(500)
    })

    test(t.hanging, async () => {
      const health = await check(get().hanging)
      expect(health.ok).toBe(false)
      expect(health.status).toBeUndefined()
      expect(health.detail ?? '').toMatch(/time/i)
    })

    test(t.refused, async () => {
      const health = await check(get().refused)
      expect(health.ok).toBe(false)
      expect(health.status).toBeUndefined()
    })

    test(t.abort, async () => {
      const controller = new AbortController()
      const reason = new Error('contract abort')
      const pending = get().check.check(get().hanging, contractContext(get().ctx, { signal: controller.signal }))
      // Abort well inside the timeout, so a check that ignores the signal resolves instead.
      setTimeout(() => controller.abort(reason), Math.min(100, get().timeoutMs / 4))
      const error = await rejection(within(GRACE_MS + Math.min(100, get().timeoutMs / 4), 'check after abort', pending))
      expect(isAbortRejection(error, reason), `expected the abort reason or an AbortError, got ${String(error)}`).toBe(true)
    })
  })
}
