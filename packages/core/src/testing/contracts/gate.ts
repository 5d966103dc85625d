// The shared contract suite for Gate implementations (a CloudWatch alarm gate, an HTTP gate,
// a user's Prometheus or Datadog gate). The fixture can put the gate's backend into each
// state; the suite checks the verdicts, that a change is seen at the next check (no
// caching across checks), that abort rejects, and that the runner's bake sees a gate turn.
// Tests are skipped by stable key (`skip: ['wait']`), never by sentence.
import { expect } from 'vitest'
import type { Gate, GateContext, GateState } from '../../gates/gate.js'
import { runGate } from '../../gates/gate.js'
import { contractContext, contractSuite, isAbortRejection, rejection, within, type ContractOptions } from './suite.js'

export interface GateFixture {
  gate: Gate
  /** Puts the backend into a state the gate must judge as `state` (alarms OK / ALARM, ...). */
  set(state: GateState): Promise<void>
  /** Real-time bound for one check. @default 5000 */
  checkMs?: number
  ctx?: Partial<GateContext>
  teardown?(): Promise<void>
}

export const gateTests = {
  pass: 'a gate whose backend is fine says pass, with a detail',
  fail: 'a gate whose backend is bad says fail, and the detail says what it saw',
  wait: 'a gate that cannot decide yet says wait',
  turn: 'a gate that turns bad is seen at the very next check',
  recover: 'a gate that turns good again passes at the next check',
  abort: 'a check with an aborted signal rejects',
  bake: 'the runner fails a gate that turns bad during its bake',
} as const

export type GateTestKey = keyof typeof gateTests

export interface GateContractOptions extends Omit<ContractOptions<GateFixture, (typeof gateTests)[GateTestKey]>, 'skip'> {
  /** Tests this gate cannot pass, by key (say why next to the list): `['wait']` for a gate that always decides. */
  skip?: readonly GateTestKey[]
}

export function testGate(options: GateContractOptions): void {
  const t = gateTests
  const unknown = (options.skip ?? []).filter((key) => !Object.hasOwn(t, key))
  if (unknown.length > 0) throw new Error(`[rolling:testing] Gate suite for ${options.name}: unknown test key(s) in \`skip\`: ${unknown.join(', ')}`)
  const { skip, ...rest } = options
  contractSuite('Gate', t, { ...rest, skip: (skip ?? []).map((key) => t[key]) }, (test, get) => {
    const context = (extra?: Partial<GateContext>): GateContext => ({
      service: 'contract',
      runId: 'r-contract',
      artifact: { service: 'contract', version: 'v2', builtAt: new Date(0).toISOString(), sha256: '0'.repeat(64), size: 1 },
      batch: 0,
      total: 2,
      final: false,
      ...contractContext(get().ctx, extra),
      ...extra,
    })
    const check = (extra?: Partial<GateContext>) => within(get().checkMs ?? 5000, `check of gate ${get().gate.name}`, get().gate.check(context(extra)))

    test(t.pass, async () => {
      await get().set('pass')
      const verdict = await check()
      expect(verdict.state).toBe('pass')
      expect(typeof verdict.detail).toBe('string')
      expect(verdict.detail.length).toBeGreaterThan(0)
    })

    test(t.fail, async () => {
      await get().set('fail')
      const verdict = await check()
      expect(verdict.state).toBe('fail')
      expect(verdict.detail.length).toBeGreaterThan(0)
    })

    test(t.wait, async () => {
      await get().set('wait')
      const verdict = await check()
      expect(verdict.state).toBe('wait')
      expect(verdict.detail.length).toBeGreaterThan(0)
    })

    test(t.turn, async () => {
      await get().set('pass')
      expect((await check()).state).toBe('pass')
      await get().set('fail')
      expect((await check()).state).toBe('fail')
    })

    test(t.recover, async () => {
      await get().set('fail')
      expect((await check()).state).toBe('fail')
      await get().set('pass')
      expect((await check()).state).toBe('pass')
    })

    test(t.abort, async () => {
      await get().set('pass')
      const controller = new AbortController()
      const reason = new Error('contract abort')
      controller.abort(reason)
      const error = await rejection(within(get().checkMs ?? 5000, 'check after abort', get().gate.check(context({ signal: controller.signal }))))
      expect(isAbortRejection(error, reason), `expected the abort reason or an AbortError, got ${String(error)}`).toBe(true)
    })

    test(t.bake, async () => {
      await get().set('pass')
      const gate: Gate = { name: get().gate.name, check: (ctx) => get().gate.check(ctx), interval: 50 }
      const signal = new AbortController().signal
      const ctx = context()
      const running = runGate(gate, ctx, { bake: 2000, timeoutMs: 5000, signal })
      // Turn it bad well inside the bake: the runner must see it before the bake ends.
      await new Promise((resolve) => setTimeout(resolve, 300))
      await get().set('fail')
      const outcome = await within(5000 + (get().checkMs ?? 5000), 'runGate', running)
      expect(outcome.passed).toBe(false)
      expect(outcome.checks).toBeGreaterThan(1)
    })
  })
}
