// The terminal view during a pause, in a real terminal (tmux): `rolling deploy --pause-after 1`
// shows that it is paused after the canary with every target in service, what it waits for
// and the keys; `a` approves from the keyboard, the rollout goes on, and the summary says
// who approved. A second run is aborted with `x`: exit 3, the rest untouched.
import { afterEach, describe, expect, it } from 'vitest'
import { findTmux, startTerminal, type Terminal } from './support/tty-tmux.js'
import { BIN_SOURCE, makeProject, type Project, runMain, TSX } from './support/project.js'

const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0'
const noTmux = !findTmux()
if (noTmux && !ci) console.warn('[tty-pause.test] skipped: tmux not installed (apt-get install -y tmux)')

;(noTmux && !ci ? describe.skip : describe)('the terminal view during a pause, in tmux', () => {
  let project: Project | undefined
  let term: Terminal | undefined
  afterEach(async () => {
    await term?.close()
    project?.remove()
    term = undefined
  })

  const deploy = (dir: string) =>
    startTerminal({
      command: ['node', '--conditions', '@org/source', '--import', TSX, BIN_SOURCE, 'deploy', '--batch', '1', '--pause-after', '1'],
      cwd: dir,
      env: { LANG: 'C.UTF-8', ROLLING_ACTOR: 'operator' },
      columns: 120,
      rows: 30,
    })

  it('shows the pause and what it waits for; `a` approves and the rollout goes on', async () => {
    if (noTmux) throw new Error('tmux not installed: CI must install it (apt-get install -y tmux)')
    project = makeProject({ size: 3 })
    term = await deploy(project.dir)
    const paused = await term.waitFor('the pause on screen', (s) => /paused after batch 1\/3/.test(s), { timeoutMs: 30_000 })
    expect(paused).toMatch(/paused after batch 1\/3, every target in service: waiting for `rolling approve` {2}\S+ \(aborts in (23h59m|24h00m)\)/)
    expect(paused).toMatch(/a: approve {2}x: abort/)
    expect(paused).toMatch(/✔ batch 1\/3 in \S+: host-1 done/)
    // Nothing moves while paused: the screen a second later still shows the pause, batch 2 not begun.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const still = await term.capture()
    expect(still).toMatch(/paused after batch 1\/3/)
    expect(still).not.toMatch(/host-2\s+\S+\s+(detaching|deploying)/)
    // `rolling status` from another terminal says what the run waits for.
    const status = await runMain(['status'], { cwd: project.dir })
    expect(status.stdout.lines()).toContainEqual(
      expect.stringMatching(/^paused after batch 1 since \S+, until \S+: `rolling approve` goes on, `rolling abort` stops it$/),
    )
    await term.sendKeys('a')
    expect(await term.exited({ timeoutMs: 30_000 })).toBe(0)
    const end = await term.capture()
    expect(end).toMatch(/✔ deploy of app v2 succeeded/)
    expect(end).toMatch(/pause after batch 1: approved by operator@\S+ \(approved at the terminal\) after \S+/)
    expect(end).not.toMatch(/a: approve/)
  })

  it('`x` aborts the paused rollout: exit 3, the later batches untouched', async () => {
    if (noTmux) throw new Error('tmux not installed: CI must install it (apt-get install -y tmux)')
    project = makeProject({ size: 3 })
    term = await deploy(project.dir)
    await term.waitFor('the pause on screen', (s) => /paused after batch 1\/3/.test(s), { timeoutMs: 30_000 })
    await term.sendKeys('x')
    expect(await term.exited({ timeoutMs: 30_000 })).toBe(3)
    const end = await term.capture()
    expect(end).toMatch(/! deploy of app v2 ABORTED/)
    expect(end).toMatch(/aborted at the terminal during the pause/)
    expect(project.fleet().hosts.map((h: { version: string }) => h.version)).toEqual(['v2', 'v1', 'v1'])
  })
})
