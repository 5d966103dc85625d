// Each reporter given a result with every outcome and every warning kind, and ids, reasons
// and host output made to attack a terminal (ESC[2J, OSC 0 title, OSC 52 clipboard, 8-bit
// CSI, BEL) or a Markdown page (raw HTML, pipes, links): what each prints says all of it,
// and no control byte or HTML tag gets through.
import type { RolloutEvent, RolloutResult, RolloutWarning, Target, TargetOutcome } from '@org/rolling-core'
import { describe, expect, it } from 'vitest'
import { jsonReporter } from '../src/reporters/json.js'
import { renderSummary as renderMarkdown } from '../src/reporters/markdown.js'
import { plainReporter } from '../src/reporters/plain.js'
import type { ReporterContext } from '../src/reporters/reporter.js'
import { countOutcomes, OUTCOME_ORDER } from '../src/reporters/format.js'
import { paint, pad, truncate, width } from '../src/reporters/tty/ansi.js'
import { renderSummary as renderTty } from '../src/reporters/tty/render.js'
import { markdownCode, markdownText, safeJson, safeLine, safeOutput } from '../src/safe-text.js'
import { Capture } from './support/project.js'

const CLEAR = '\u001b[2J'
const TITLE = '\u001b]0;pwned\u0007'
const CLIPBOARD = '\u001b]52;c;cm0gLXJmIH4=\u0007'
const C1_CSI = '\u009b31m'
const HOSTILE = `${CLEAR}${TITLE}${CLIPBOARD}${C1_CSI}<script>alert(1)</script> | [x](http://evil) \`code\``
/** A byte a terminal obeys: C0 but \n, DEL, C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/
/** The colours and cursor moves the terminal view writes itself. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing the view's own escapes is the point
const OWN_SGR = /\u001b\[[0-9;]*m/g

const target = (id: string, n: number): Target => ({ id, address: `127.0.20.${n}`, port: 8080 })
const OUTCOMES = ['done', 'unverified', 'skipped', 'failed', 'rolled-back', 'restored', 'stopped', 'pending'] as const satisfies readonly TargetOutcome[]
const KINDS = ['skipped', 'stopped', 'unverified', 'excluded', 'left-out', 'forced-drain'] as const satisfies readonly RolloutWarning['kind'][]

function result(ids: (i: number) => string = (i) => `web-${i + 1}`): RolloutResult {
  const targets = OUTCOMES.map((outcome, i) => ({
    target: target(ids(i), i + 1),
    outcome,
    batch: i,
    timings: { precheck: 1, ...(outcome === 'pending' ? {} : { deploy: 10, hold: 5, gate: 2 }) },
    ...(outcome === 'done' || outcome === 'pending' ? {} : { reason: `${outcome} because ${HOSTILE}` }),
    ...(outcome === 'failed' ? { failedIn: 'settle' as const } : {}),
  }))
  const excludedTarget = target(ids(9), 9)
  const warnings: RolloutWarning[] = KINDS.map((kind, i) => ({
    kind,
    target: kind === 'excluded' ? excludedTarget : target(ids(i + 1), i + 2),
    message: `${kind}: ${HOSTILE}`,
  }))
  return {
    status: 'succeeded',
    runId: `r-1${TITLE}`,
    service: 'app',
    artifact: { service: 'app', version: `v2${CLEAR}`, builtAt: '2026-01-01T00:00:00.000Z', sha256: 'a'.repeat(64), size: 1 },
    targets,
    needsAttention: [targets[3]?.target as Target, target(ids(5), 6)],
    excluded: [{ target: excludedTarget, reason: `MAINT ${HOSTILE}` }],
    warnings,
    batches: 8,
    startedAt: 0,
    endedAt: 1000,
    durationMs: 1000,
  }
}

function context(out: Capture, strict = false): ReporterContext {
  return { command: 'deploy', service: 'app', out, color: false, now: () => 0, strict }
}

function noControl(text: string): void {
  const found = CONTROL.exec(text.replace(/\n/g, ''))
  expect(
    found,
    found ? `control byte U+${found[0].charCodeAt(0).toString(16)} at ${JSON.stringify(text.slice(Math.max(0, found.index - 20), found.index + 20))}` : '',
  ).toBeNull()
}

describe('outcomes and phases: every one has its place', () => {
  it('counts every outcome, unverified included (a list without it printed "no targets")', () => {
    expect([...OUTCOME_ORDER].sort()).toEqual([...OUTCOMES].sort())
    expect(countOutcomes(['unverified', 'unverified'])).toBe('2 unverified')
    expect(countOutcomes(OUTCOMES)).toBe(OUTCOMES.map((o) => `1 ${o}`).join(', '))
  })
})

describe('plain reporter', () => {
  it('lists each warning kind under "⚠ N warnings", each target once, and what needs attention', () => {
    const out = new Capture()
    plainReporter()(context(out)).end(result())
    const lines = out.lines().map((line) => line.replace(/^\s*\d+\.\d+s {2}/, ''))
    expect(lines[1]).toBe('targets: 1 done, 1 unverified, 1 skipped, 1 failed, 1 rolled-back, 1 restored, 1 stopped, 1 pending (8 in 8 batch(es), 1.0s)')
    const at = lines.indexOf('⚠ 6 warnings:')
    expect(at).toBeGreaterThan(0)
    expect(lines.slice(at + 1, at + 7).map((line) => line.split(':')[0])).toEqual(KINDS.map((kind) => `  ${kind}`))
    expect(lines.find((line) => line.startsWith('needs attention: web-4'))).toMatch(/failed in settle, left out of the load balancer/)
    expect(lines).toContain('needs attention (not back in service): web-6 (127.0.20.6:8080)')
    // Warned targets are not listed a second time among the targets not done.
    expect(lines.filter((line) => line.includes('web-2 (127.0.20.2:8080)'))).toHaveLength(1)
    expect(lines.at(-1)).toBe('exit 0 (succeeded with 6 warnings)')
  })

  it('says exit 6 under --strict', () => {
    const out = new Capture()
    plainReporter()(context(out, true)).end(result())
    expect(out.lines().at(-1)).toMatch(/exit 6 \(succeeded with 6 warnings, --strict\)$/)
  })

  it('lets no control byte through from ids, reasons, messages or host output', () => {
    const out = new Capture()
    const hostile = (i: number) => `web-${i}${HOSTILE}`
    const reporter = plainReporter({ output: true })(context(out))
    const t = target(hostile(1), 1)
    const events: RolloutEvent[] = [
      { type: 'rollout:start', runId: `r${TITLE}`, service: 'app', ref: `latest${CLEAR}`, resumed: false },
      { type: 'batch:start', index: 0, total: 1, targets: [t] },
      { type: 'target:precheck', target: t, batch: 0 },
      { type: 'target:detaching', target: t, batch: 0 },
      { type: 'target:output', target: t, stream: 'stdout', chunk: `step 1\n${HOSTILE}\n\u001b[31mred\u001b[0m half` },
      { type: 'target:holding', target: t, batch: 0, holdMs: 30_000 },
      { type: 'fleet:check', batch: 1, targets: [t] },
      { type: 'fleet:unhealthy', batch: 1, failing: [{ target: t, reason: HOSTILE }], healthy: 0, minHealthy: 1 },
      { type: 'warning', target: t, message: HOSTILE },
      { type: 'listener:error', event: 'plan', error: new Error(HOSTILE) },
    ]
    for (const event of events) reporter.event(event)
    reporter.end(result(hostile))
    const text = out.text()
    noControl(text)
    expect(text).toContain('web-1\\x1b[2J\\x1b]0;pwned\\x07')
    expect(text).toContain('\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m<script>')
    // Host output keeps its text, not its escapes: a build's colours are dropped, so is ESC[2J.
    expect(text).toContain('`code` | <script>alert(1)</script> | [x](http://evil) `code`\n')
    expect(text).toMatch(/\| red half\n/)
    expect(text).toContain('attached, held 30.0s before its batch counts')
    expect(text).toContain('fleet unhealthy before batch 2: 0 healthy in service, at least 1 needed')
  })

  it('never lets a newline inside a value forge a line of its own', () => {
    const out = new Capture()
    const t = target('web-1\n    12.0s  exit 0 (succeeded)', 1)
    plainReporter()(context(out)).event({ type: 'target:detached', target: t, batch: 0 })
    expect(out.lines()).toHaveLength(1)
    expect(out.text()).toContain('web-1\\n    12.0s  exit 0 (succeeded) detached')
  })
})

describe('terminal view summary', () => {
  it('highlights the warnings of a succeeded result, each kind, and lets no control byte through', () => {
    const lines = renderTty(
      result((i) => `web-${i + 1}${HOSTILE}`),
      {
        command: 'deploy',
        service: 'app',
        now: 0,
        columns: 200,
        rows: 50,
        paint: paint(true),
        showOutput: false,
        outputLines: 5,
        interactive: false,
      },
    )
    const text = lines.join('\n')
    noControl(text.replace(OWN_SGR, ''))
    const plain = text.replace(OWN_SGR, '')
    expect(plain.split('\n')[0]).toMatch(/^⚠ deploy of app v2\\x1b\[2J succeeded with 6 warnings in 1\.0s/)
    expect(plain).toContain('\n  ⚠ 6 warnings:\n')
    for (const kind of KINDS) expect(plain).toMatch(new RegExp(`\\n {4}${kind} +web-`))
    // In yellow (33), bold: it must stand out.
    expect(text).toContain('\u001b[33m\u001b[1m  ⚠ 6 warnings:')
    expect(plain).toMatch(/8 target\(s\): 1 done, 1 unverified, 1 skipped, 1 failed, 1 rolled-back, 1 restored, 1 stopped, 1 pending/)
  })
})

describe('Markdown summary', () => {
  it('has a Warnings section with each kind, every outcome in the table, hold and gate timings', () => {
    const md = renderMarkdown(result(), 'deploy')
    // The backslash of `\x1b` is escaped too: rendered, it reads `v2\x1b[2J`.
    expect(md.split('\n')[0]).toBe('## ✅ app v2\\\\x1b\\[2J: succeeded (6 warnings)')
    expect(md).toContain('\n### ⚠️ Warnings (6)\n\n')
    for (const kind of KINDS) expect(md).toMatch(new RegExp(`\\n- \\*\\*${kind}\\*\\* \``))
    for (const outcome of OUTCOMES) expect(md).toMatch(new RegExp(`\\| ${outcome} \\|`))
    expect(md).toMatch(/\n\| hold \| 7 \|/)
    expect(md).toMatch(/\n\| gate \| 7 \|/)
  })

  it('keeps no control byte and no raw HTML, and hostile pipes cannot add table cells', () => {
    const md = renderMarkdown(
      result((i) => `web-${i + 1}${HOSTILE}`),
      'deploy',
    )
    noControl(md)
    expect(md).not.toMatch(/<[a-z/!?]/i)
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    // No link either, outside the code spans (where nothing is a link).
    expect(md.replace(/(`+) .*? \1/g, '')).not.toContain('[x](http://evil)')
    for (const row of md.split('\n').filter((line) => line.startsWith('| web-'))) {
      // Six columns, whatever the cells hold: every pipe of theirs is escaped.
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8)
    }
  })
})

describe('JSON reporter', () => {
  it('writes the fields as they are, with no raw control byte on the line', () => {
    const out = new Capture()
    const r = result((i) => `web-${i + 1}${HOSTILE}`)
    jsonReporter(context(out)).event({ type: 'rollout:end', result: r })
    const line = out.text()
    noControl(line.slice(0, -1))
    const parsed = JSON.parse(line) as { result: RolloutResult }
    expect(parsed.result.warnings).toEqual(r.warnings)
    expect(parsed.result.excluded).toEqual(r.excluded)
    expect(parsed.result.needsAttention).toEqual(r.needsAttention)
    expect(parsed.result.targets.map((t) => t.outcome)).toEqual([...OUTCOMES])
  })
})

describe('the sanitizer', () => {
  it('shows control characters in data, drops escapes from host output, escapes Markdown', () => {
    expect(safeLine(`a${CLEAR}b\nc\u0085d\u202ee`)).toBe('a\\x1b[2Jb\\nc\\x85d\\u202ee')
    expect(safeOutput(`a${CLEAR}${TITLE}${CLIPBOARD}b\u0007\r\nc\td${C1_CSI}e`)).toBe('ab\nc\tde')
    expect(markdownText('a <b> & c | d [e](f) *g*')).toBe('a &lt;b&gt; &amp; c \\| d \\[e\\](f) \\*g\\*')
    expect(markdownCode('a`b')).toBe('``a`b``')
    expect(markdownCode('x|y', true)).toBe('`x\\|y`')
    expect(JSON.parse(safeJson({ s: '\u0085\u009b\u007f' }))).toEqual({ s: '\u0085\u009b\u007f' })
    expect(safeJson({ s: '\u009b' })).toBe('{"s":"\\u009b"}')
  })
})

describe('terminal widths (string-width, cli-truncate)', () => {
  it('measures emoji and ZWJ sequences as terminals draw them', () => {
    expect(width('✅')).toBe(2)
    expect(width('👩‍💻')).toBe(2)
    expect(width('漢字')).toBe(4)
    expect(width('\u001b[31mred\u001b[39m')).toBe(3)
    expect(width(pad('👩‍💻', 5))).toBe(5)
  })

  it('cuts by columns, keeping colours closed and never splitting a wide character', () => {
    const cut = truncate(`\u001b[31m${'👩‍💻'.repeat(10)}\u001b[39m`, 7)
    expect(width(cut)).toBeLessThanOrEqual(7)
    expect(cut.endsWith('…\u001b[39m')).toBe(true)
    expect(cut.replace(OWN_SGR, '')).toBe('👩‍💻👩‍💻👩‍💻…')
    expect(truncate('✅✅✅', 6)).toBe('✅✅✅')
    expect(width(truncate('✅✅✅✅', 6))).toBeLessThanOrEqual(6)
  })
})
