// The timeline of a rollout as a Mermaid Gantt chart: in the Markdown summary (folded from
// the events) and in `rolling status --summary` (from the journal's time-stamped records),
// and its escaping: no target id can break the chart or the Markdown fence around it.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Project, makeProject, runMain } from './support/project.js'
import { mermaidGantt } from '../src/reporters/timeline/mermaid.js'
import type { Timeline } from '../src/reporters/timeline/model.js'

let project: Project | undefined
afterEach(() => project?.remove())

/**
 * The chart's lines with its times checked and then replaced: each bar's start and end
 * are epoch ms, start < end, bars of one target in order and within the run.
 */
function chart(markdown: string): string[] {
  const at = markdown.indexOf('```mermaid\n')
  expect(at).toBeGreaterThan(-1)
  const lines = markdown.slice(at).split('\n')
  const block = lines.slice(0, lines.indexOf('```', 1) + 1)
  let last = 0
  return block.map((line) => {
    if (line.startsWith('  section ')) last = 0
    const m = /^( {2}[^:]+ :(?:(?:crit|done), )?t\d+), (\d{13}), (\d{13})$/.exec(line)
    if (!m) return line
    const [start, end] = [Number(m[2]), Number(m[3])]
    expect(end).toBeGreaterThan(start)
    // A target's bars follow one another (compact mode keeps them on one row only if none overlaps the one before).
    if (!line.includes(' target')) {
      expect(start).toBeGreaterThanOrEqual(last)
      last = end
    }
    return `${m[1]}, START, END`
  })
}

describe('timeline', () => {
  it('the summary of a rollout with a failure holds a Gantt chart: a section per batch and per target, a bar per phase, the failed one crit', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    const { code } = await runMain(['deploy', '--plain', '--summary', 'out.md'], { cwd: project.dir })
    expect(code).toBe(2)
    const markdown = readFileSync(join(project.dir, 'out.md'), 'utf8')
    expect(markdown).toContain('| host-3 | 127.0.10.3:8080 | pending | 3 |  |  |\n\n### Timeline\n\n```mermaid\n')
    expect(chart(markdown)).toEqual([
      '```mermaid',
      '---',
      'displayMode: compact',
      '---',
      'gantt',
      '  title app v2, halted',
      '  dateFormat x',
      '  axisFormat %H:%M:%S',
      '  section batch 1',
      '  1 target :done, t0, START, END',
      '  section host-1',
      '  precheck :t1, START, END',
      '  detach :t2, START, END',
      '  deploy :t3, START, END',
      '  settle :t4, START, END',
      '  attach :t5, START, END',
      '  section batch 2',
      '  1 target :done, t6, START, END',
      '  section host-2',
      '  precheck :t7, START, END',
      '  detach :t8, START, END',
      '  deploy :t9, START, END',
      '  settle :crit, t10, START, END',
      '```',
    ])
    // host-3 was never reached: no row. Then the phase timings, as before.
    expect(markdown).toMatch(/\n```\n\n### Phase timings\n/)
  })

  it('`rolling status --summary` draws the same chart from the journal', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    expect((await runMain(['deploy', '--plain'], { cwd: project.dir })).code).toBe(2)
    const status = await runMain(['status', '--summary', 'status.md'], { cwd: project.dir })
    expect(status.code).toBe(0)
    const markdown = readFileSync(join(project.dir, 'status.md'), 'utf8')
    expect(markdown.split('\n').slice(0, 8)).toEqual([
      '## rolling status app: halted',
      '',
      expect.stringMatching(/^Run `r-[a-z0-9-]+`, build \*\*v2\*\* \(asked for latest\), started \S+Z, ended \S+Z\.$/),
      '',
      'Batches: 2 of 3 finished. Targets: 1 done, 1 failed, 1 pending.',
      '',
      '**Needs attention** (failed, left out of the load balancer): `host-2`',
      '',
    ])
    expect(chart(markdown)).toEqual([
      '```mermaid',
      '---',
      'displayMode: compact',
      '---',
      'gantt',
      '  title app v2, halted',
      '  dateFormat x',
      '  axisFormat %H:%M:%S',
      '  section batch 1',
      '  1 target :done, t0, START, END',
      '  section host-1',
      '  precheck :t1, START, END',
      '  detach :t2, START, END',
      '  deploy :t3, START, END',
      '  settle :t4, START, END',
      '  attach :t5, START, END',
      '  section batch 2',
      '  1 target :done, t6, START, END',
      '  section host-2',
      '  precheck :t7, START, END',
      '  detach :t8, START, END',
      '  deploy :t9, START, END',
      '  settle :crit, t10, START, END',
      '```',
    ])
  })

  it('`rolling status --summary` of a journal without times says so instead of drawing nothing', async () => {
    project = makeProject({ size: 1 })
    expect((await runMain(['deploy', '--plain'], { cwd: project.dir })).code).toBe(0)
    const journal = join(project.dir, '.rolling/app.journal.jsonl')
    const records = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(records.filter((r) => r.type === 't').every((r) => typeof r.at === 'number')).toBe(true)
    // As a journal written before transitions had times.
    writeFileSync(journal, `${records.map(({ at, ...r }) => JSON.stringify(r.type === 't' || r.type === 'batch' ? r : { at, ...r })).join('\n')}\n`)
    const status = await runMain(['status', '--summary', 'status.md'], { cwd: project.dir })
    expect(status.code).toBe(0)
    expect(readFileSync(join(project.dir, 'status.md'), 'utf8')).toContain(
      '### Timeline\n\nThe journal records no times (written by a version of rolling before they were recorded).\n',
    )
  })

  it('keeps a chart whole whatever the target ids hold, and caps the rows of a huge fleet', () => {
    const hostile = [
      'web-1:8080',
      'a;b#c%%d',
      'section evil',
      '```\n## injected',
      'x <b>bold</b> &amp; `code`',
      'gantt',
      'a#b',
      'a_b',
      'batch 1',
      '%%{init: {"theme":"dark"}}%%',
      '',
    ]
    const t0 = 1_800_000_000_000
    const timeline: Timeline = {
      start: t0,
      end: t0 + 1000,
      batches: [{ index: 0, start: t0, end: t0 + 1000 }],
      rows: hostile.map((id) => ({ id, batch: 0, bars: [{ phase: 'deploy', start: t0, end: t0 + 500, how: 'failed' }] })),
    }
    const lines = mermaidGantt(timeline, { title: 'app: v2 # ; %% ```' })
    expect(lines.filter((l) => l.startsWith('```'))).toEqual(['```mermaid', '```'])
    expect(lines.at(-1)).toBe('```')
    const body = lines.slice(5, -1)
    // Every line is a statement Mermaid's Gantt lexer reads as meant: no `:` `;` `#` `%` or backtick in a name.
    for (const line of body)
      expect(line).toMatch(/^ {2}(title [^:;#%`]+|dateFormat x|axisFormat %H:%M:%S|section [^:;#%`]+|[a-z0-9 ]+ :(crit, |done, )?t\d+, \d{13}, \d{13})$/)
    const sections = body.filter((l) => l.startsWith('  section ')).map((l) => l.slice(10))
    expect(new Set(sections).size).toBe(sections.length) // Mermaid would merge two of one name into one row
    expect(sections).toEqual([
      'batch 1',
      'web-1꞉8080',
      'a_b_c__d',
      'section evil',
      '______ injected',
      'x _b_bold_/b_ _amp_ _code_',
      'gantt',
      'a_b',
      'a_b (2)',
      'batch 1 (2)',
      '___init꞉ __theme_꞉_dark_____',
      '_',
    ])
    expect(lines[5]).toBe('  title app꞉ v2 _ _ __ ___')

    const many: Timeline = {
      ...timeline,
      rows: Array.from({ length: 120 }, (_, k) => ({
        id: `host-${k + 1}`,
        batch: 0,
        bars: [{ phase: 'deploy' as const, start: t0, end: t0 + 500, how: k === 99 ? ('failed' as const) : ('ok' as const) }],
      })),
    }
    const capped = mermaidGantt(many, { maxRows: 10 })
    const shown = capped.filter((l) => l.startsWith('  section host-')).map((l) => l.slice(10))
    // The failed one first, then the rest in order.
    expect(shown).toEqual(['host-1', 'host-2', 'host-3', 'host-4', 'host-5', 'host-6', 'host-7', 'host-8', 'host-9', 'host-100'])
    expect(capped.at(-1)).toBe('110 of 120 targets left out of the timeline (10 shown, those with a failed phase first).')
  })
})
