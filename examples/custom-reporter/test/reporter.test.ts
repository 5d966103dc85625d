// webhookReporter during real rollouts over the in-memory fleet, posting to a webhook on
// loopback: the messages' content and order, and that a webhook that fails, answers 500
// or hangs never breaks or stalls the rollout, while flush() is bounded.
import { memoryJournal, memoryLock, rollout, type RolloutOptions, ValidationError } from '@org/rolling-core'
import { memoryFleet, type MemoryFleet } from '@org/rolling-core/testing'
import { afterEach, expect, it } from 'vitest'
import { type WebhookError, webhookReporter } from '../src/index.js'
import { SECRET, startReceiver, type Receiver } from './receiver.js'

let receiver: Receiver | undefined
afterEach(async () => {
  await receiver?.close()
  receiver = undefined
})

function fleetOf(size: number): MemoryFleet {
  const fleet = memoryFleet({ size })
  fleet.publish('v2')
  return fleet
}

function options(fleet: MemoryFleet): RolloutOptions {
  return {
    ...fleet.adapters,
    batch: 2,
    settle: { delay: 0 },
    journal: memoryJournal(),
    lock: memoryLock(),
  }
}

it('posts when each batch starts and ends, and once at the end, in order', async () => {
  receiver = await startReceiver()
  const fleet = fleetOf(4)
  fleet.unhealthyBefore('host-2')
  const errors: WebhookError[] = []
  const reporter = webhookReporter({ url: receiver.url, onError: (e) => errors.push(e) })
  const run = rollout(options(fleet))
  reporter.watch(run)
  const result = await run
  expect(await reporter.flush()).toEqual({ delivered: 5, failed: 0, dropped: 0, pending: 0 })

  expect(result.status).toBe('succeeded')
  expect(errors).toEqual([])
  const texts = receiver.delivered.map((r) => r.text)
  expect(texts.slice(0, 4)).toEqual([
    'app v2: batch 1/2 started: host-1, host-2',
    'app v2: batch 1/2 ended: 1 done, 1 skipped\n• host-2 skipped: pre-check failed: status 503 (unhealthy)',
    'app v2: batch 2/2 started: host-3, host-4',
    'app v2: batch 2/2 ended: 2 done',
  ])
  // host-2 kept v1, so the verify phase stopped it; the rollout still succeeded (maxStopped 3).
  expect(texts[4]).toMatch(/^app v2 succeeded in \d+ ms: 3 done, 1 stopped\n• host-2 stopped: wrong build: detached and stopped$/)
  expect(texts).toHaveLength(5)
  // Chat-style JSON bodies, posted to the webhook's own path.
  expect(receiver.delivered[0]?.body).toEqual({ text: texts[0] })
  expect(receiver.delivered.every((r) => r.path === `/services/${SECRET}`)).toBe(true)
})

it('a halted rollout names the failed target, why, and who needs attention', async () => {
  receiver = await startReceiver()
  const fleet = fleetOf(4)
  fleet.breakAfterDeploy('host-3')
  const reporter = webhookReporter({ url: receiver.url, batchStart: false })
  const run = rollout(options(fleet))
  reporter.watch(run)
  const result = await run
  await reporter.flush()

  expect(result.status).toBe('halted')
  const texts = receiver.delivered.map((r) => r.text)
  expect(texts).toHaveLength(3)
  expect(texts[0]).toBe('app v2: batch 1/2 ended: 2 done')
  expect(texts[1]).toBe('app v2: batch 2/2 ended: 1 done, 1 failed\n• host-3 failed: status 503 (unhealthy)')
  expect(texts[2]).toMatch(/^app v2 halted in \d+ ms: 3 done, 1 failed\n/)
  expect(texts[2]).toContain(`\nReason: ${result.reason}\n`)
  expect(texts[2]).toContain('\nNeeds attention (left out of the load balancer): host-3\n')
})

it('a webhook answering 500 is retried a limited number of times and never breaks the rollout', async () => {
  receiver = await startReceiver({ kind: 'status', status: 500 })
  const fleet = fleetOf(4)
  const errors: WebhookError[] = []
  const reporter = webhookReporter({ url: receiver.url, retries: 1, retryDelayMs: 10, onError: (e) => errors.push(e) })
  const run = rollout(options(fleet))
  reporter.watch(run)
  const result = await run
  expect(await reporter.flush()).toEqual({ delivered: 0, failed: 5, dropped: 0, pending: 0 })

  expect(result.status).toBe('succeeded')
  expect(result.targets.every((t) => t.outcome === 'done')).toBe(true)
  expect(receiver.requests).toHaveLength(10) // 5 messages, each tried twice
  expect(errors).toHaveLength(5)
  for (const error of errors) {
    expect(error).toMatchObject({ reason: 'status', status: 500, attempts: 2 })
    expect(error.message).toMatch(/^\[webhook\] POST http:\/\/127\.0\.0\.1:\d+\/… failed after 2 attempt\(s\): status 500 \(internal error\)$/)
    expect(error.message).not.toContain(SECRET)
  }
})

it('a 4xx other than 429 is not retried: the webhook will not heal by itself', async () => {
  receiver = await startReceiver({ kind: 'status', status: 404 })
  const errors: WebhookError[] = []
  const reporter = webhookReporter({ url: receiver.url, retries: 3, retryDelayMs: 10, onError: (e) => errors.push(e) })
  const run = rollout(options(fleetOf(2)))
  reporter.watch(run)
  await run
  await reporter.flush()
  expect(receiver.requests).toHaveLength(3) // 1 batch: start, end; the final message
  expect(errors.map((e) => [e.reason, e.status, e.attempts])).toEqual([
    ['status', 404, 1],
    ['status', 404, 1],
    ['status', 404, 1],
  ])
})

it('a hanging webhook does not stall the rollout, and flush gives up at its deadline', async () => {
  const baselineFleet = fleetOf(4)
  const baseline = await rollout(options(baselineFleet))

  receiver = await startReceiver({ kind: 'hang' })
  const errors: WebhookError[] = []
  const reporter = webhookReporter({ url: receiver.url, timeoutMs: 10_000, onError: (e) => errors.push(e) })
  const run = rollout(options(fleetOf(4)))
  reporter.watch(run)
  const result = await run
  expect(result.status).toBe('succeeded')
  // A post would hang for 10 s; the rollout must not notice it.
  expect(result.durationMs).toBeLessThan(Math.max(3 * baseline.durationMs, 1000))
  expect(reporter.stats.pending).toBe(5)

  const started = performance.now()
  const stats = await reporter.flush({ timeoutMs: 300 })
  const waited = performance.now() - started
  expect(waited).toBeGreaterThanOrEqual(290)
  expect(waited).toBeLessThan(2000)
  expect(stats).toEqual({ delivered: 0, failed: 0, dropped: 5, pending: 0 })
  expect(errors.every((e) => e.reason === 'dropped')).toBe(true)
  expect(receiver.requests).toHaveLength(1) // one at a time: only the first was ever sent
  // The abandoned request was really cut, so nothing keeps the process alive.
  await expect.poll(() => receiver?.abandoned, { timeout: 2000 }).toBe(1)
})

it('each post has a time limit: a silent webhook fails every message with a timeout', async () => {
  receiver = await startReceiver({ kind: 'hang' })
  const errors: WebhookError[] = []
  const reporter = webhookReporter({ url: receiver.url, timeoutMs: 150, retries: 0, onError: (e) => errors.push(e) })
  const run = rollout(options(fleetOf(2)))
  reporter.watch(run)
  await run
  const started = performance.now()
  expect(await reporter.flush()).toEqual({ delivered: 0, failed: 3, dropped: 0, pending: 0 })
  // Three posts of 150 ms one after the other, plus scheduling.
  expect(performance.now() - started).toBeLessThan(3 * 150 + 1500)
  expect(errors.map((e) => e.reason)).toEqual(['timeout', 'timeout', 'timeout'])
  expect(errors[0]?.message).toMatch(/failed after 1 attempt\(s\): no answer within 150 ms$/)
})

it('flush waits for posts still under way, and they arrive in order', async () => {
  receiver = await startReceiver({ kind: 'slow', ms: 100 })
  const reporter = webhookReporter({ url: receiver.url })
  const run = rollout(options(fleetOf(4)))
  reporter.watch(run)
  await run
  expect(receiver.delivered.length).toBeLessThan(5)
  expect(await reporter.flush()).toEqual({ delivered: 5, failed: 0, dropped: 0, pending: 0 })
  expect(receiver.delivered.map((r) => r.text.split('\n')[0]?.replace(/\d+ ms/, 'N ms'))).toEqual([
    'app v2: batch 1/2 started: host-1, host-2',
    'app v2: batch 1/2 ended: 2 done',
    'app v2: batch 2/2 started: host-3, host-4',
    'app v2: batch 2/2 ended: 2 done',
    'app v2 succeeded in N ms: 4 done',
  ])
})

it('a throwing body builder or error handler is reported, never thrown into the rollout', async () => {
  receiver = await startReceiver()
  const errors: WebhookError[] = []
  const reporter = webhookReporter({
    url: receiver.url,
    body: (message) => {
      if (message.kind === 'batch:start') throw new Error('no template for batch:start')
      return { text: message.text }
    },
    onError: (e) => {
      errors.push(e)
      throw new Error('the error handler itself fails')
    },
  })
  const run = rollout(options(fleetOf(2)))
  reporter.watch(run)
  const result = await run
  await reporter.flush()
  expect(result.status).toBe('succeeded')
  expect(errors.map((e) => [e.reason, e.message])).toEqual([['format', '[webhook] could not build a message for batch:start: no template for batch:start']])
  const texts = receiver.delivered.map((r) => r.text)
  expect(texts).toHaveLength(2) // the batch:start message could not be built; the others went out
  expect(texts[0]).toBe('app v2: batch 1/1 ended: 2 done')
  expect(texts[1]).toMatch(/^app v2 succeeded in \d+ ms: 2 done$/)
})

it('rejects bad options, naming the option and the value (but never the URL itself)', () => {
  expect(() => webhookReporter({ url: `ftp://hooks.example/${SECRET}` })).toThrow(ValidationError)
  expect(() => webhookReporter({ url: `ftp://hooks.example/${SECRET}` })).toThrow(
    /invalid option `url`: webhookReporter: expected an http\(s\) URL, got a string of \d+ characters/,
  )
  expect(() => webhookReporter({ url: 'http://127.0.0.1:9', retries: 1.5 })).toThrow(
    'invalid option `retries`: webhookReporter: expected an integer >= 0, got 1.5',
  )
  expect(() => webhookReporter({ url: 'http://127.0.0.1:9', timeoutMs: 0 })).toThrow(
    'invalid option `timeoutMs`: webhookReporter: expected a finite number >= 1, got 0',
  )
  expect(() => webhookReporter({ url: 'http://127.0.0.1:9', maxTargets: 0 })).toThrow('`maxTargets`')
})
