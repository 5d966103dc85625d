// The Markdown summary (to $GITHUB_STEP_SUMMARY, appended, and to --summary <file>) and
// the choice of reporters by flag, terminal and CI.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { reporterKind } from '../src/index.js'
import { type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

// \b keeps a run id's base-36 time (`r-mx4syy-…`) from reading as a duration.
const DURATION = /\b\d+(\.\d+)?(ms|s)\b/g

describe('Markdown summary', () => {
  it('appends to $GITHUB_STEP_SUMMARY a heading, the targets table and the phase timings', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    const step = join(project.dir, 'step-summary.md')
    writeFileSync(step, '# Earlier step\n\n')
    const { code } = await runMain(['deploy', '--plain'], { cwd: project.dir, env: { GITHUB_STEP_SUMMARY: step } })
    expect(code).toBe(2)
    // The timeline between the two tables has its own test (timeline.test.ts).
    const text = readFileSync(step, 'utf8').replace(/### Timeline\n\n```mermaid\n[\s\S]*?\n```\n\n/, '')
    const lines = text.replace(DURATION, 'T').split('\n')
    expect(lines.slice(0, 22)).toEqual([
      '# Earlier step',
      '',
      '## ⚠️ app v2: halted',
      '',
      expect.stringMatching(/^`rolling deploy`, run `r-[a-z0-9-]+`: 1 done, 1 failed, 1 pending in 3 batch\(es\), T\.$/),
      '',
      'Build **v2**, built 2026-01-01T00:00:00.000Z, sha256 `41c6d3072efa`.',
      '',
      '> **halted**: host-2 (127.0.10.2:8080) failed its settle',
      '',
      '**Needs attention** (left out of the load balancer): `host-2`',
      '',
      '### Targets',
      '',
      '| target | address | outcome | batch | deploy | reason |',
      '| --- | --- | --- | --- | --- | --- |',
      '| host-1 | 127.0.10.1:8080 | done | 1 | T |  |',
      '| host-2 | 127.0.10.2:8080 | failed | 2 | T | settle: status 503 |',
      '| host-3 | 127.0.10.3:8080 | pending | 3 |  |  |',
      '',
      '### Phase timings',
      '',
    ])
    expect(lines.slice(22, 24)).toEqual(['| phase | targets | total | slowest |', '| --- | --- | --- | --- |'])
    const phases = lines.slice(24).filter((line) => line.startsWith('| '))
    // The fleet check before batches 2 and 3 (the gate) is a phase with its own time.
    expect(phases.map((line) => line.split(' | ')[0])).toEqual(['| precheck', '| detach', '| deploy', '| settle', '| attach', '| gate'])
    expect(phases.find((line) => line.startsWith('| deploy'))).toBe('| deploy | 2 | T | T |')
  })

  it('writes --summary <file> (replacing it) and says why when the run could not start', async () => {
    project = makeProject({ size: 1 })
    const file = join(project.dir, 'out/summary.md')
    let run = await runMain(['deploy', '--plain', '--summary', 'out/summary.md'], { cwd: project.dir })
    expect(run.code).toBe(0)
    expect(readFileSync(file, 'utf8')).toMatch(/^## ✅ app v2: succeeded\n/)
    run = await runMain(['deploy', '--plain', '--summary', 'out/summary.md', '--build', 'v9'], { cwd: project.dir })
    expect(run.code).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe('## ❌ rolling deploy app: could not start\n\n> \\[rolling:file\\] no build v9 of service app\n\n')
  })

  it('is not written without $GITHUB_STEP_SUMMARY or --summary', async () => {
    project = makeProject({ size: 1 })
    await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(existsSync(join(project.dir, 'summary.md'))).toBe(false)
  })
})

describe('reporter choice', () => {
  it('uses the terminal view on a terminal outside CI, plain lines otherwise, JSON with --json', () => {
    expect(reporterKind({}, { isTTY: true }, {})).toBe('tty')
    expect(reporterKind({}, { isTTY: true }, { CI: 'true' })).toBe('plain')
    expect(reporterKind({}, { isTTY: true }, { CI: 'false' })).toBe('tty')
    expect(reporterKind({}, { isTTY: false }, {})).toBe('plain')
    expect(reporterKind({}, {}, {})).toBe('plain')
    expect(reporterKind({ plain: true }, { isTTY: true }, {})).toBe('plain')
    expect(reporterKind({ tty: true }, { isTTY: false }, { CI: '1' })).toBe('tty')
    expect(reporterKind({ json: true }, { isTTY: true }, {})).toBe('json')
  })

  it('prints plain lines when stdout is not a terminal, with no flag', async () => {
    project = makeProject({ size: 1 })
    const { stdout } = await runMain(['deploy'], { cwd: project.dir })
    expect(stdout.lines().at(-1)).toMatch(/^ +\d+\.\d+s {2}exit 0 \(succeeded\)$/)
  })

  it('refuses --json with --tty and --plain with --tty', async () => {
    project = makeProject({ size: 1 })
    let run = await runMain(['deploy', '--json', '--tty'], { cwd: project.dir })
    expect([run.code, run.stderr.text()]).toEqual([4, 'rolling deploy: --json and --tty cannot be used together\n'])
    run = await runMain(['deploy', '--plain', '--tty'], { cwd: project.dir })
    expect([run.code, run.stderr.text()]).toEqual([4, 'rolling deploy: --plain and --tty cannot be used together\n'])
    expect(project.fleet().calls).toEqual([])
  })
})
