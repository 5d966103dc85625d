// The terminal view as a person uses it: `rolling deploy` run in a real terminal (tmux)
// against a running local fleet behind HAProxy, its screen captured during and after the
// rollout: the header, progress with an ETA, hosts in their phases, host output on `o`, a
// failure in red with exit code 2, Ctrl-C still aborting while keys are read in raw mode,
// and the terminal given back (cursor shown, raw mode off) however the CLI ends.
import { readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitUntil } from '@org/rolling-core/adapter'
import { findHaproxy } from '@org/rolling-haproxy'
import { type Fleet, startFleet, UNHEALTHY_FILE } from '@org/rolling-local-fleet'
import { afterEach, describe, expect, it } from 'vitest'
import { Screen } from './support/tty-screen.js'
import { findTmux, startTerminal, type Terminal } from './support/tty-tmux.js'
import { BIN_SOURCE, makeProject, type Project, TSX } from './support/project.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const CLI = ['node', '--conditions', '@org/source', '--import', 'tsx', 'packages/cli/src/bin.ts']
const RED = 31
const DEPLOY = [...CLI, 'deploy', '--config', 'examples/local-fleet/rollout.config.ts']

const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0'
const missing = [findTmux() ? undefined : 'tmux', findHaproxy() ? undefined : 'haproxy'].filter(Boolean)
if (missing.length > 0 && !ci) console.warn(`[tty.test] skipped: ${missing.join(' and ')} not installed (apt-get install -y tmux haproxy)`)
// Where the environment asks for these tests (CI), a missing tool fails them loudly.
const suite = missing.length > 0 && !ci ? describe.skip : describe

// A frame of the live region: `<bar> 2/6 targets  batch 2/3  elapsed 3.1s  ETA 2.9s`.
const PROGRESS = /[\u2588-\u258f░]{10,}\s+(\d+)\/6 targets\s+batch (\d)\/3\s+elapsed (\d+ms|[\d.]+s|\d+m\d+s)\s+ETA (--|<1s|\d+s|\d+m\d+s)/
const HOST_LINE = /^\s+app\/host-(\d)\s+127\.0\.0\.\d+:\d+\s+(detaching|deploying|settling|attaching|unhealthy|done|failed)\b(.*)$/gm

const phasesSeen = (term: Terminal): Set<string> => {
  const seen = new Set<string>()
  for (const { text } of term.captures) for (const m of text.matchAll(HOST_LINE)) seen.add(m[2] as string)
  return seen
}

function readCurrentSync(hostDir: string): string | undefined {
  try {
    return readlinkSync(join(hostDir, 'current'))
  } catch {
    return undefined
  }
}

let fleet: Fleet | undefined
let term: Terminal | undefined
afterEach(async () => {
  await term?.close()
  await fleet?.stop()
  term = undefined
  fleet = undefined
})

async function setup(): Promise<{ fleet: Fleet; term: Terminal }> {
  if (missing.length > 0) throw new Error(`${missing.join(' and ')} not installed: CI must install them (apt-get install -y tmux haproxy)`)
  fleet = await startFleet({ size: 6, lb: 'haproxy', startupDelayMs: 300 })
  await fleet.publish('v2')
  term = await startTerminal({ command: DEPLOY, cwd: ROOT, env: { ROLLING_FLEET_DIR: fleet.dir }, columns: 120, rows: 40 })
  return { fleet, term }
}

suite('rolling deploy in a real terminal', () => {
  it('shows the run live, host output on `o`, and a summary once done', async () => {
    const { fleet, term } = await setup()
    const first = await term.waitFor('the first batch on screen', (s) => /app\/host-1\s+\S+\s+(detaching|deploying)/.test(s), { timeoutMs: 30_000 })
    expect(first).toMatch(/rolling deploy\s+app → v2\s+run \S+/)
    expect(first).toMatch(PROGRESS)
    expect(first).toMatch(/o: show host output/)
    expect(await term.cursorVisible()).toBe(false)
    expect(await term.rawMode()).toBe(true)

    await term.sendKeys('o')
    const pane = await term.waitFor('host output in the pane', (s) => /── app\/host-\d output ──\n\s+installing v2 \(sha256 [0-9a-f]{12}\)/.test(s))
    expect(pane).toMatch(/o: hide host output/)

    // The window narrows: the region is redrawn to the new width, not left behind in pieces.
    await term.resize(80, 40)
    const narrow = await term.waitFor('the view redrawn 80 columns wide', (s) => {
      const bar = s.split('\n').find((line) => PROGRESS.test(line))
      return bar !== undefined && [...bar].length < 80
    })
    expect(narrow.match(/rolling deploy {2}app → v2/g)).toHaveLength(1)
    expect(Math.max(...narrow.split('\n').map((line) => [...line].length))).toBeLessThan(80)

    // Mid-rollout, once a batch ended: the ETA is a time, the first batch is printed above.
    const mid = await term.waitFor('a later batch with an ETA', (s) => {
      const m = PROGRESS.exec(s)
      return m !== null && m[2] !== '1' && m[4] !== '--'
    })
    expect(mid).toMatch(/✔ batch 1\/3 in [\d.]+m?s: app\/host-1 done, app\/host-2 done/)

    expect(await term.exited({ timeoutMs: 60_000 })).toBe(0)
    const end = await term.capture()
    expect(end).toMatch(/✔ batch 3\/3 in [\d.]+m?s: app\/host-5 done, app\/host-6 done/)
    expect(end).toMatch(/✔ deploy of app v2 succeeded in [\d.]+m?s\s+run \S+\n\s+6 target\(s\): 6 done/)
    // The live region is gone, and the cursor is back.
    expect(end).not.toMatch(PROGRESS)
    expect(end).not.toContain('host output')
    expect(await term.cursorVisible()).toBe(true)
    expect(await term.rawMode()).toBe(false)

    // What the screen showed along the way: hosts in their phases, with the time in phase.
    const seen = phasesSeen(term)
    expect([...seen]).toEqual(expect.arrayContaining(['deploying', 'settling']))
    expect(term.captures.some(({ text }) => /app\/host-\d\s+\S+\s+(deploying|settling)\s+(\d+ms|[\d.]+s)/.test(text))).toBe(true)
    // The screen told the truth: every host runs the new build.
    expect(fleet.hosts.map((h) => h.version)).toEqual(Array(6).fill('v2'))
  })

  it('highlights a host that fails its new build, keeps the others out, and exits 2 (halted)', async () => {
    const { fleet, term } = await setup()
    const sick = fleet.hosts[2]
    if (!sick) throw new Error('no host-3')
    // Once its deploy switched `current` to v2 (the pre-check passed before the detach; the
    // unpacking may run ahead, during the previous batch), the host's app answers 500: its
    // new build never reports healthy. The restart that follows takes 300 ms: time enough.
    await waitUntil(() => (readCurrentSync(sick.dir) === 'releases/v2' ? { state: 'done', value: true } : { state: 'retry' }), {
      what: `${sick.id} to switch to v2`,
      timeoutMs: 30_000,
      minDelayMs: 5,
      maxDelayMs: 10,
    })
    writeFileSync(join(sick.dir, UNHEALTHY_FILE), '')

    // The live frame with the failure lasts only until the halt ends the run (host-4's attach,
    // a few ms since attach takes settle's pass); a capture may miss it, so the final screen counts too.
    const LIVE = /app\/host-3\s+\S+\s+failed in settle/
    const failed = await term.waitFor('host-3 failed on screen', (s) => LIVE.test(s) || /HALTED/.test(s))
    if (LIVE.test(failed)) expect(failed).toMatch(PROGRESS)
    // While host-3 kept failing its checks (until the 5 s settle deadline), host-4 was shown
    // healthy and waiting: the engine attaches a batch in one call.
    expect(term.captures.some(({ text }) => /app\/host-3\s+\S+\s+settling\s+\S+\n\s+app\/host-4\s+\S+\s+healthy\s+[\d.]+m?s/.test(text))).toBe(true)
    // Red from the word `failed` to the reason, and only there: the colours tmux shows,
    // read back through the unit tests' terminal emulator.
    const coloured = new Screen(120, 100)
    coloured.write(await term.capture({ escapes: true }))
    expect(coloured.colorsOf('failed in settle: not healthy')?.every((c) => c === RED)).toBe(true)
    expect(coloured.colorsOf('app/host-4')?.some((c) => c === RED)).toBe(false)

    expect(await term.exited({ timeoutMs: 60_000 })).toBe(2)
    const end = await term.capture()
    expect(end).toMatch(/✖ batch 2\/3 in [\d.]+m?s: app\/host-3 failed, app\/host-4 done\n\s+app\/host-3 failed in settle: [^\n]*500/)
    expect(end).toMatch(/✖ deploy of app v2 HALTED in [\d.]+m?s/)
    expect(end).toMatch(/6 target\(s\): 3 done, 1 failed, 2 pending/)
    expect(end).toMatch(/app\/host-3\s+failed\s+in settle: [^\n]*500/)
    expect(end).toMatch(/app\/host-5\s+pending/)
    expect(end).toMatch(/left out of the load balancer for manual verification: app\/host-3/)
    expect(await term.cursorVisible()).toBe(true)
    expect(fleet.hosts.map((h) => h.version)).toEqual(['v2', 'v2', 'v2', 'v2', 'v1', 'v1'])
  })

  it('still aborts on Ctrl-C while it reads keys in raw mode, and says so on screen', async () => {
    const { fleet, term } = await setup()
    await term.waitFor('the first batch deploying', (s) => /app\/host-1\s+\S+\s+(deploying|settling)/.test(s))
    await term.sendKeys('C-c')
    const notice = await term.waitFor('the Ctrl-C notice', (s) => /Ctrl-C: aborting/.test(s))
    expect(notice).toMatch(PROGRESS)
    expect(await term.exited({ timeoutMs: 60_000 })).toBe(3)
    const end = await term.capture()
    expect(end).toMatch(/! deploy of app v2 ABORTED in [\d.]+m?s/)
    expect(end).toMatch(/6 target\(s\):.*4 pending/)
    expect(await term.cursorVisible()).toBe(true)
    // Nothing after the first batch was touched.
    expect(fleet.hosts.slice(2).map((h) => h.version)).toEqual(['v1', 'v1', 'v1', 'v1'])
  })

  it('gives the terminal back when a second Ctrl-C stops the CLI at once (exit 130)', async () => {
    const { term } = await setup()
    await term.waitFor('the first batch deploying', (s) => /app\/host-1\s+\S+\s+(deploying|settling)/.test(s))
    await term.sendKeys('C-c')
    await term.waitFor('the Ctrl-C notice', (s) => /Ctrl-C: aborting/.test(s))
    await term.sendKeys('C-c')
    expect(await term.exited({ timeoutMs: 30_000 })).toBe(130)
    const end = await term.capture()
    expect(end).toMatch(
      /Ctrl-C again: stopping at once; the journal \S+ is kept: run `(npx )?rolling resume --config examples\/local-fleet\/rollout.config.ts`/,
    )
    expect(await term.cursorVisible()).toBe(true)
    expect(await term.rawMode()).toBe(false)
  })
})

const noTmux = !findTmux()
if (noTmux && !ci)
  console.warn('[tty.test] emoji ids skipped: tmux not installed (apt-get install -y tmux)')

  // tmux draws `✅` and `👩‍💻` two columns wide, as string-width counts them. With the widths
  // counted wrong, a line cut "to fit" wraps, the cursor climbs too few rows on the next redraw,
  // and old frames pile up on screen: more than one header, more target lines than targets.
;(noTmux && !ci ? describe.skip : describe)('the terminal view in tmux with emoji in the target ids', () => {
  let project: Project | undefined
  afterEach(() => project?.remove())

  it('keeps one header and one line per target on every frame, 50 columns wide', async () => {
    if (noTmux) throw new Error('tmux not installed: CI must install it (apt-get install -y tmux)')
    const ids = ['✅'.repeat(9), '👩‍💻'.repeat(9), `web-${'漢'.repeat(7)}`]
    project = makeProject({ size: 3, ids, deployMs: 700 })
    term = await startTerminal({
      command: ['node', '--conditions', '@org/source', '--import', TSX, BIN_SOURCE, 'deploy', '--batch', '100%'],
      cwd: project.dir,
      env: { LANG: 'C.UTF-8' },
      columns: 50,
      rows: 20,
    })
    await term.waitFor('the batch deploying', (s) => /deploying/.test(s), { timeoutMs: 30_000 })
    expect(await term.exited({ timeoutMs: 60_000 })).toBe(0)
    const live = term.captures.filter(({ text }) => /\d\/3 targets/.test(text))
    expect(live.length).toBeGreaterThan(0)
    for (const { text } of live) {
      expect(text.match(/rolling deploy/g), text).toHaveLength(1)
      expect(
        text.split('\n').filter((line) => /^ {2}\S.* 127\.0\.10\.\d/.test(line)),
        text,
      ).toHaveLength(3)
    }
    const end = await term.capture()
    expect(end).toMatch(/✔ deploy of app v2 succeeded/)
    expect(end).toContain(`✔ batch 1/1 in`)
  })
})
