// The terminal view driven by real rollouts over the in-memory fleet on a fake clock,
// its bytes applied to a small terminal emulator: what a person sees at each step.
import { PassThrough } from 'node:stream'
import { memoryJournal, memoryLock, resume, rollout, type RolloutEvent, type RolloutResult, type SettleOptions } from '@org/rolling-core'
import stringWidth from 'string-width'
import { FakeClock, memoryFleet } from '@org/rolling-core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createTtyReporter, type TtyOptions, ttyReporter } from '../src/reporters/tty/index.js'
import type { Reporter } from '../src/reporters/reporter.js'
import { screenStream } from './support/tty-screen.js'

const RED = 31
const REFRESH = 20
/** Longer than a redraw period: the view has drawn what the last events changed. */
const redrawn = () => new Promise((resolve) => setTimeout(resolve, REFRESH * 3))

type FakeInput = PassThrough & { isTTY: boolean; raw: boolean[]; setRawMode(mode: boolean): void }
function fakeKeyboard(): FakeInput {
  const raw: boolean[] = []
  return Object.assign(new PassThrough(), {
    isTTY: true,
    raw,
    setRawMode(mode: boolean) {
      raw.push(mode)
    },
  })
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn()
})

/**
 * 6 hosts in batches of 2: drain 2 s, deploy 5 s, settle 3 s, attach 1 s, so a batch
 * takes 11 s of fake time, moved by hand.
 */
function setup(
  options: {
    columns?: number
    rows?: number
    size?: number
    batch?: number
    input?: FakeInput
    color?: boolean
    tty?: TtyOptions
    settle?: SettleOptions
  } = {},
) {
  const { out, screen } = screenStream(options.columns ?? 100, options.rows ?? 30)
  const clock = new FakeClock({ autoAdvance: false })
  const fleet = memoryFleet({ size: options.size ?? 6, clock, drainMs: 2000, deployMs: 5000, attachMs: 1000 })
  fleet.publish('v2')
  const reporter: Reporter = createTtyReporter({ refreshMs: REFRESH, ...options.tty })({
    command: 'deploy',
    service: fleet.service,
    out,
    ...(options.input ? { input: options.input } : {}),
    color: options.color ?? true,
    now: () => clock.now(),
  })
  cleanups.push(() => reporter.fail?.(new Error('test over')))
  const start = () => {
    const run = rollout({
      ...fleet.adapters,
      batch: options.batch ?? 2,
      settle: options.settle ?? { delay: 3000 },
      clock,
      journal: memoryJournal(),
      lock: memoryLock(),
      runId: 'run-42',
    })
    run.subscribe((event) => reporter.event(event))
    return run
  }
  const screenText = () => screen.screen().join('\n')
  return { screen, screenText, clock, fleet, reporter, start, out }
}

async function finish(reporter: Reporter, run: PromiseLike<RolloutResult>, clock: FakeClock): Promise<RolloutResult> {
  let result: RolloutResult | undefined
  void run.then((r) => {
    result = r
  })
  for (let i = 0; i < 100 && !result; i++) await clock.advance(1000)
  if (!result) throw new Error('the rollout did not end within 100 s of fake time')
  await reporter.end(result)
  return result
}

describe('tty view', () => {
  it('shows the header, the running batch with each phase and its time, progress and an ETA from the batches so far', async () => {
    const { screen, screenText, clock, reporter, start } = setup()
    const run = start()
    await clock.advance(0)
    await redrawn()
    expect(screen.cursorVisible).toBe(false)
    let text = screenText()
    expect(text).toMatch(/rolling deploy\s+app → v2\s+run run-42/)
    expect(text).toMatch(/0\/6 targets\s+batch 1\/3\s+elapsed 0ms\s+ETA --/)
    expect(text).toMatch(/host-1\s+\S+:8080\s+detaching/)
    expect(text).toMatch(/host-2\s+\S+:8080\s+detaching/)
    expect(text).not.toContain('host-3')
    expect(text).toMatch(/other targets: 4 pending/)

    await clock.advance(2000) // drained: deploying
    await clock.advance(2500)
    await redrawn()
    text = screenText()
    expect(text).toMatch(/host-1\s+\S+\s+deploying\s+2\.5s/)
    expect(text).toContain('elapsed 4.5s')

    await clock.advance(2500) // deployed: settling for 3 s
    await clock.advance(1000)
    await redrawn()
    expect(screenText()).toMatch(/host-2\s+\S+\s+settling\s+1\.0s/)

    await clock.advance(2000) // healthy: attaching for 1 s
    await redrawn()
    expect(screenText()).toMatch(/host-1\s+\S+\s+attaching/)

    await clock.advance(1000) // batch 1 ended after 11 s; batch 2 starts
    await redrawn()
    text = screenText()
    expect(text).toMatch(/✔ batch 1\/3 in 11s: host-1 done, host-2 done/)
    expect(text).toMatch(/[\u2588-\u258f]+░+\s+2\/6 targets\s+batch 2\/3\s+elapsed 11s\s+ETA 22s/)
    expect(text).toMatch(/host-3\s+\S+\s+detaching/)
    expect(text).toMatch(/other targets: 2 done, 2 pending/)

    await clock.advance(5500)
    await redrawn()
    expect(screenText()).toMatch(/ETA 17s/)

    const result = await finish(reporter, run, clock)
    expect(result.status).toBe('succeeded')
    const all = screen.all()
    expect(all).toMatch(/✔ batch 3\/3 in 11s: host-5 done, host-6 done/)
    expect(all).toMatch(
      /✔ deploy of app v2 succeeded in 33s\s+run run-42\n\s+6 target\(s\): 6 done\ntimeline: 33s, one column ≈ \d+ms\nbatch 1\n {2}host-1 {2}░+█+▒+▓+ +11s\n/,
    )
    // The final screen ends with the text timeline: a row per target, batch 3's bars in the last third.
    expect(all).toMatch(/batch 3\n {2}host-5 {2} +░+█+▒+▓+ 11s\n {2}host-6 .*\n· precheck {2}░ detach {2}█ deploy {2}▒ settle {2}▓ attach {2}✗ failed$/)
    // The live region is gone: no progress bar left under the summary.
    expect(screenText()).not.toContain('ETA')
    expect(screen.cursorVisible).toBe(true)
    expect(screen.errors).toEqual([])
    expect(screen.wrapped).toEqual([])
  })

  it('highlights a failure in red with its reason, keeps it on screen, and ends with the halt summary', async () => {
    const { screen, screenText, clock, fleet, reporter, start } = setup()
    fleet.breakAfterDeploy('host-3')
    const run = start()
    await clock.advance(11_000 + 2000 + 5000 + 3000) // batch 2 settled: host-3 failed, host-4 attaching
    await redrawn()
    const text = screenText()
    expect(text).toMatch(/host-3\s+\S+\s+failed in settle: .*503/)
    expect(text).toMatch(/host-4\s+\S+\s+attaching/)
    expect(screen.colorsOf('failed in settle')?.every((c) => c === RED)).toBe(true)
    expect(screen.colorsOf('host-4')?.some((c) => c === RED)).toBe(false)
    // The bar turns red once anything failed.
    expect(screen.colorsOf('█')).toEqual([RED])

    const result = await finish(reporter, run, clock)
    expect(result.status).toBe('halted')
    const all = screen.all()
    expect(all).toMatch(/✖ batch 2\/3 in 11s: host-3 failed, host-4 done\n\s+host-3 failed in settle: .*503/)
    expect(all).toMatch(/✖ deploy of app v2 HALTED in 22s/)
    expect(all).toMatch(/6 target\(s\): 3 done, 1 failed, 2 pending/)
    expect(all).toMatch(/host-3\s+failed\s+in settle: .*503/)
    expect(all).toMatch(/host-5\s+pending/)
    expect(all).toMatch(/left out of the load balancer for manual verification: host-3/)
    expect(screen.colorsOf('left out of the load balancer')?.every((c) => c === RED)).toBe(true)
    // The timeline: host-3's settle ends in a red ✗; nothing of batch 3 ran.
    expect(all).toMatch(/\n {2}host-3 {2} +░+█+▒+✗ +10s\n/)
    expect(screen.colorsOf('✗')).toContain(RED)
    expect(all).not.toMatch(/^ {2}host-5 {2} *[░█▒▓·✗]/m)
    expect(screen.cursorVisible).toBe(true)
    expect(screen.errors).toEqual([])
  })

  it('shows a healthy target waiting for the rest of its batch, then attaching with it', async () => {
    const { screenText, clock, fleet, reporter, start } = setup({ settle: { interval: 1000, deadline: 4000 } })
    fleet.breakAfterDeploy('host-2')
    const run = start()
    await clock.advance(2000 + 5000 + 2500) // host-1 passed its check; host-2 keeps failing its own
    await redrawn()
    let text = screenText()
    expect(text).toMatch(/host-1\s+\S+\s+healthy\s+2\.5s/)
    expect(text).toMatch(/host-2\s+\S+\s+settling\s+2\.5s/)
    await clock.advance(2000) // host-2 gave up at the 4 s deadline: the batch attaches host-1
    await redrawn()
    text = screenText()
    expect(text).toMatch(/host-2\s+\S+\s+failed in settle/)
    expect(text).toMatch(/host-1\s+\S+\s+attaching/)
    expect((await finish(reporter, run, clock)).status).toBe('halted')
  })

  it('counts the targets an interrupted run finished when the view follows its resume', async () => {
    const { screenText, clock, fleet, reporter } = setup()
    const options = {
      ...fleet.adapters,
      batch: 2,
      settle: { delay: 3000 },
      clock,
      journal: memoryJournal(),
      lock: memoryLock(),
    }
    // The first run (no view on it) dies while batch 2 deploys: its journal is left as it
    // was at that moment, which `rolling resume` then finishes.
    const first = rollout(options)
    await clock.advance(11_000 + 2000 + 1000)
    const atCrash = structuredClone(options.journal.records)
    first.cancel('test')
    await finish({ event() {}, notice() {}, end() {} }, first, clock)
    options.journal.records.splice(0, Number.POSITIVE_INFINITY, ...atCrash)

    const { batch: _batch, ...rest } = options
    const second = resume({ ...rest, lock: memoryLock() })
    second.subscribe((event) => reporter.event(event))
    await clock.advance(10)
    await redrawn()
    const text = screenText()
    expect(text).toMatch(/rolling deploy\s+app → v2/)
    expect(text).toMatch(/2\/6 targets\s+batch 2\/3/)
    expect(text).toMatch(/other targets: 2 pending, 2 earlier run|other targets: 2 earlier run, 2 pending/)
    const result = await finish(reporter, second, clock)
    expect(result.status).toBe('succeeded')
  })

  it("toggles the host output pane with 'o', reads keys in raw mode and puts the terminal back at the end", async () => {
    const input = fakeKeyboard()
    const { screen, screenText, clock, reporter, start } = setup({ input })
    expect(input.raw).toEqual([true])
    const run = start()
    await clock.advance(2000 + 5000)
    await redrawn()
    expect(screenText()).toContain('o: show host output')
    expect(screenText()).not.toContain('installed v2')

    input.write('o')
    await redrawn()
    let text = screenText()
    expect(text).toMatch(/── host-1 output ──\n\s+installed v2\n\s+── host-2 output ──\n\s+installed v2/)
    expect(text).toContain('o: hide host output')

    input.write('o')
    await redrawn()
    text = screenText()
    expect(text).not.toContain('host-1 output')
    expect(text).toContain('o: show host output')

    await finish(reporter, run, clock)
    expect(input.raw).toEqual([true, false])
    expect(input.isPaused()).toBe(true)
    expect(input.listenerCount('data')).toBe(0)
    expect(screen.cursorVisible).toBe(true)
    expect(screen.errors).toEqual([])
  })

  it('opens the pane from the start with showOutput, and strips escapes and control characters from host output', async () => {
    const { screen, screenText, reporter } = setup({ tty: { showOutput: true } })
    const target = { id: 'web-1', address: '10.0.0.1', port: 80 }
    reporter.event({ type: 'rollout:start', runId: 'r', service: 'app', ref: 'latest', resumed: false })
    reporter.event({ type: 'batch:start', index: 0, total: 1, targets: [target] })
    reporter.event({ type: 'target:output', target, stream: 'stdout', chunk: 'step 1\n\u001b[2J\u001b[31mred\u001b[0m\tand\u0007 bell\nhalf a li' })
    await redrawn()
    const text = screenText()
    expect(text).toMatch(/── web-1 output ──\n\s+step 1\n\s+red {2}and bell\n\s+half a li/)
    expect(screen.errors).toEqual([])
  })

  it('forwards Ctrl-C typed in raw mode as SIGINT to the process', async () => {
    const input = fakeKeyboard()
    setup({ input })
    const got = new Promise<string>((resolve) => process.once('SIGINT', () => resolve('SIGINT')))
    input.write('\u0003')
    await expect(Promise.race([got, new Promise((resolve) => setTimeout(resolve, 2000, 'no signal within 2 s'))])).resolves.toBe('SIGINT')
  })

  it('shows CLI notices, and restores the cursor and the keyboard when the run could not start', async () => {
    const input = fakeKeyboard()
    const { screen, screenText, reporter } = setup({ input })
    reporter.notice('Ctrl-C: aborting; waiting for host-1 to finish deploying')
    await redrawn()
    expect(screenText()).toContain('! Ctrl-C: aborting; waiting for host-1 to finish deploying')
    expect(screen.cursorVisible).toBe(false)
    await reporter.fail?.(new Error('lock held'))
    expect(screen.cursorVisible).toBe(true)
    expect(input.raw).toEqual([true, false])
    expect(screenText()).not.toContain('o: show host output')
  })

  it('fits a small terminal: lines cut to its width, the batch summarised beyond its height', async () => {
    const { screen, screenText, clock, reporter, start } = setup({ columns: 40, rows: 10, size: 20, batch: 10 })
    const run = start()
    await clock.advance(2000 + 1000)
    await redrawn()
    const shown = screen.screen().filter((line) => line !== '')
    expect(shown.length).toBeLessThanOrEqual(9)
    expect(Math.max(...shown.map((line) => line.length))).toBeLessThan(40)
    const text = screenText()
    // The progress line is longer than 40 columns: cut, and the cut marked.
    expect(text).toMatch(/^[\u2588-\u258f░]{10}\s+0\/20 targets\s+batch 1\/2\s+e…$/m)
    expect(text).toMatch(/… \d+ more in this batch: \d+ deploying/)
    expect(text).toMatch(/other targets: 10 pending/)
    await finish(reporter, run, clock)
    expect(screen.all()).toMatch(/✔ batch 1\/2 in 11s: 10 done\n/)
    expect(screen.all()).toMatch(/✔ batch 2\/2 in 11s: 10 done\n/)
    // Only the final summary, printed once below everything, may wrap: nothing of the live region did.
    expect(screen.wrapped).toEqual([expect.stringMatching(/^✔ deploy of app v2 succeeded in 22s/)])
    expect(screen.errors).toEqual([])
  })

  it('shows settle.hold as its own phase, and the fleet check (the gate) before the next batch', async () => {
    const { screenText, clock, reporter, start, screen } = setup({ settle: { delay: 3000, hold: 4000 } })
    const run = start()
    await clock.advance(2000 + 5000 + 3000 + 1000 + 1500) // attached, 1.5 s into the hold
    await redrawn()
    expect(screenText()).toMatch(/host-1\s+\S+\s+holding\s+1\.5s/)
    expect(screenText()).toMatch(/host-2\s+\S+\s+holding/)
    const result = await finish(reporter, run, clock)
    expect(result.status).toBe('succeeded')
    expect(screen.all()).toMatch(/✔ batch 1\/3 in 15s: host-1 done, host-2 done/)

    // The gate by hand: a check that runs, then one that fails and halts.
    const { screenText: gateText, reporter: view, screen: gateScreen } = setup()
    const t = { id: 'web-1', address: '10.0.0.1', port: 80 }
    view.event({ type: 'fleet:check', batch: 1, targets: [t, t] })
    await redrawn()
    expect(gateText()).toMatch(/gate: checking the fleet \(2 target\(s\)\) before batch 2/)
    view.event({ type: 'fleet:unhealthy', batch: 1, failing: [{ target: t, reason: 'status 500' }], healthy: 1, minHealthy: 2 })
    await redrawn()
    expect(gateText()).toMatch(/✖ fleet check before batch 2 failed: 1 healthy in service, at least 2 needed\n\s+web-1: status 500/)
    expect(gateText()).not.toMatch(/gate: checking/)
    expect(gateScreen.colorsOf('fleet check before batch 2 failed')?.every((c) => c === RED)).toBe(true)
  })

  it('keeps every line of the live region on one row with emoji and ZWJ sequences in the ids', async () => {
    // Ids made to end right at the cut: a width counted 1 for `✅` or 4 for `👩‍💻` wraps a line
    // (or cuts it early), and the region's cursor arithmetic then leaves stale rows behind.
    const columns = 56
    const { screen, reporter } = setup({ columns, rows: 12 })
    const ids = ['✅'.repeat(10), '👩‍💻'.repeat(10), `web-${'漢'.repeat(8)}`, `${'a'.repeat(17)}✅`]
    const targets = ids.map((id, i) => ({ id, address: `10.0.0.${i + 1}`, port: 8080 }))
    reporter.event({ type: 'rollout:start', runId: 'run-w', service: 'app', ref: 'latest', resumed: false })
    reporter.event({ type: 'batch:start', index: 0, total: 1, targets })
    const steps: RolloutEvent[][] = [
      targets.map((target) => ({ type: 'target:precheck', target, batch: 0 })),
      targets.map((target) => ({ type: 'target:detaching', target, batch: 0 })),
      targets.map((target) => ({
        type: 'target:deploying',
        target,
        batch: 0,
        artifact: { service: 'app', version: 'v2', builtAt: 'x', sha256: 'a', size: 1 },
      })),
      targets.map((target) => ({ type: 'target:holding', target, batch: 0, holdMs: 1000 })),
    ]
    for (const events of steps) {
      for (const event of events) reporter.event(event)
      await redrawn()
      const shown = screen.screen().filter((line) => line !== '')
      // One header, one progress line, one line per target: nothing left over from a frame before.
      expect(shown.filter((line) => line.startsWith('rolling deploy'))).toHaveLength(1)
      expect(shown.filter((line) => /^ {2}\S.* 10\.0\.0\.\d:8080 /.test(line))).toHaveLength(4)
      for (const line of shown) expect(stringWidth(line)).toBeLessThan(columns)
    }
    expect(screen.screen().join('\n')).toMatch(/holding/)
    expect(screen.wrapped).toEqual([])
    expect(screen.errors).toEqual([])
  })

  it('redraws at most once per refresh period however many events arrive', async () => {
    // The pane is open: every line of output changes the frame.
    const { screen, reporter } = setup({ tty: { refreshMs: 100, showOutput: true } })
    const target = { id: 'web-1', address: '10.0.0.1', port: 80 }
    reporter.event({ type: 'batch:start', index: 0, total: 1, targets: [target] })
    await new Promise((resolve) => setTimeout(resolve, 150))
    const before = screen.writes.length
    const started = Date.now()
    let sent = 0
    while (Date.now() - started < 500) {
      reporter.event({ type: 'target:output', target, stream: 'stdout', chunk: `line ${sent++}\n` })
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const frames = screen.writes.length - before
    expect(sent).toBeGreaterThan(50)
    // 500 ms at one frame per 100 ms, and one for the time spent past the loop.
    expect(frames).toBeGreaterThanOrEqual(1)
    expect(frames).toBeLessThanOrEqual(7)
  })

  it('writes no colour when colours are off', async () => {
    const { screen, clock, reporter, start, fleet } = setup({ color: false })
    fleet.breakAfterDeploy('host-1')
    const run = start()
    await finish(reporter, run, clock)
    expect(screen.all()).toMatch(/host-1\s+failed\s+in settle/)
    // Cursor movement yes (the region is redrawn in place), colour (SGR, `ESC [ ... m`) no.
    const written = screen.writes.join('')
    expect(written).toContain('\u001b[?25l')
    expect(written).not.toMatch(/\[[\d;]*m/)
  })

  it('refuses bad options, naming the option and the value', () => {
    expect(() => createTtyReporter({ refreshMs: 0 })).toThrow('Expected `refreshMs` to be a finite number >= 16, got 0')
    expect(() => createTtyReporter({ outputLines: 2.5 })).toThrow('Expected `outputLines` to be an integer >= 1, got 2.5')
    expect(() => createTtyReporter({ showOutput: 'yes' as unknown as boolean })).toThrow('Expected `showOutput` to be a boolean, got "yes"')
    expect(typeof ttyReporter).toBe('function')
  })
})
