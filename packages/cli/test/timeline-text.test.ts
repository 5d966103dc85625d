// The text timeline of the terminal view's final screen, from a real rollout over the
// in-memory fleet on a fake clock (so every phase has a known length).
import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'
import { FakeClock, memoryFleet } from '@org/rolling-core/testing'
import stringWidth from 'string-width'
import { describe, expect, it } from 'vitest'
import { TimelineRecorder } from '../src/reporters/timeline/model.js'
import { textTimeline } from '../src/reporters/timeline/text.js'
import { paint } from '../src/reporters/tty/ansi.js'

/** 4 hosts in batches of 2: drain 2 s, deploy 5 s, settle 3 s, attach 1 s; `bad` fails its settle. */
async function recorded(ids: { bad: string; rename?: Record<string, string> }) {
  const clock = new FakeClock({ autoAdvance: false })
  const fleet = memoryFleet({ size: 4, clock, drainMs: 2000, deployMs: 5000, attachMs: 1000 })
  fleet.publish('v2')
  fleet.breakAfterDeploy(ids.bad)
  const recorder = new TimelineRecorder()
  const run = rollout({ ...fleet.adapters, batch: 2, settle: { delay: 3000 }, clock, journal: memoryJournal(), lock: memoryLock(), runId: 'run-1' })
  run.subscribe((event) => recorder.apply(event, clock.now()))
  let done = false
  void run.then(() => {
    done = true
  })
  for (let i = 0; i < 100 && !done; i++) await clock.advance(500)
  const result = await run
  return { result, timeline: recorder.timeline(clock.now()) }
}

describe('text timeline', () => {
  it('draws a bar per target scaled to the width, each phase its glyph, the failed one ending in ✗', async () => {
    const { result, timeline } = await recorded({ bad: 'host-3' })
    expect(result.status).toBe('halted')
    if (!timeline) throw new Error('no timeline')
    // 22 s over 42 columns: a column is 524 ms; batch 2 starts at 11 s, column 21.
    expect(textTimeline(timeline, { columns: 60, paint: paint(false) })).toEqual([
      'timeline: 22s, one column ≈ 524ms',
      'batch 1',
      '  host-1  ░░░██████████▒▒▒▒▒▒▓▓                      11s',
      '  host-2  ░░░██████████▒▒▒▒▒▒▓▓                      11s',
      'batch 2',
      '  host-3                       ░░░██████████▒▒▒▒▒▒✗  10s',
      '  host-4                       ░░░██████████▒▒▒▒▒▒▓▓ 11s',
      '· precheck  ░ detach  █ deploy  ▒ settle  ▓ attach  ✗ failed',
    ])
    // Twice as wide: twice the columns per phase.
    const wide = textTimeline(timeline, { columns: 102, paint: paint(false) })
    expect(wide[2]).toBe(`  host-1  ${'░'.repeat(7)}${'█'.repeat(19)}${'▒'.repeat(12)}${'▓'.repeat(4)}${' '.repeat(42)} 11s`)
    // In colour the failed phase is red.
    const red = textTimeline(timeline, { columns: 60, paint: paint(true) })[5] as string
    expect(red).toContain('\u001b[31m✗\u001b[39m')
    expect(red).toContain('\u001b[31m▒\u001b[39m')
  })

  it('lines up ids of any width (string-width) and never overflows the terminal', () => {
    const bar = (phase: 'deploy' | 'settle', start: number, end: number, how: 'ok' | 'failed' = 'ok') => ({ phase, start, end, how })
    const timeline = {
      start: 0,
      end: 10_000,
      batches: [{ index: 0, start: 0, end: 10_000 }],
      rows: [
        { id: '東京-web-1', batch: 0, bars: [bar('deploy', 0, 5000), bar('settle', 5000, 10_000)] },
        { id: 'w2', batch: 0, bars: [bar('deploy', 0, 5000), bar('settle', 5000, 6000, 'failed')] },
        { id: 'a-very-long-target-id-that-goes-on-and-on', batch: 0, bars: [bar('deploy', 0, 10_000)] },
      ],
    }
    for (const columns of [30, 50, 80]) {
      const lines = textTimeline(timeline, { columns, paint: paint(false) })
      for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(columns)
      // Every bar starts in the same column: 2 + the widest id (at most 20) + 2.
      const rows = lines.slice(2, 5)
      for (const row of rows) expect(stringWidth(row.slice(0, row.indexOf('█')))).toBe(24)
    }
    const lines = textTimeline(timeline, { columns: 50, paint: paint(false) })
    expect(lines[2]).toMatch(/^ {2}東京-web-1 {12}█+▒+ 10s$/)
    expect(lines[3]).toMatch(/^ {2}w2 {20}█+▒*✗ +6\.0s$/)
    expect(lines[4]).toMatch(/^ {2}a-very-long-target-… {2}█+ 10s$/)
  })
})
