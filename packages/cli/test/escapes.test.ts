// Terminal escapes from outside (issue 11.8): target ids and host output carrying ESC[2J,
// an OSC 0 title, an OSC 52 clipboard write, 8-bit CSI and raw HTML, through every command
// that prints them: deploy (plain with --output, JSON, the Markdown summary), plan, status.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u009b31m<img src=x onerror=alert(1)>'
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

function clean(what: string, text: string): void {
  const found = CONTROL.exec(text)
  expect(found, `${what}: control byte ${found ? JSON.stringify(text.slice(Math.max(0, found.index - 30), found.index + 10)) : ''}`).toBeNull()
}

describe('hostile ids and host output reach no terminal raw', () => {
  it('deploy --plain --output, the Markdown summary, --json, plan and status', async () => {
    project = makeProject({ size: 2, ids: [`web-1${HOSTILE}`, `web-2${HOSTILE}`], installOutput: `building\n${HOSTILE}\n`, unhealthyNow: ['host-2'] })
    const deploy = await runMain(['deploy', '--plain', '--output', '--no-verify', '--summary', 'summary.md'], { cwd: project.dir })
    expect(deploy.code).toBe(0)
    clean('plain stdout', deploy.stdout.text())
    clean('stderr', deploy.stderr.text())
    expect(deploy.stdout.text()).toContain('web-1\\x1b[2J\\x1b]0;pwned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m<img src=x onerror=alert(1)> deploying v2')
    // Host output: the text stays, the escapes go.
    expect(deploy.stdout.text()).toMatch(/ \| <img src=x onerror=alert\(1\)>\n/)
    expect(deploy.stdout.text()).toContain('⚠ 1 warning:')

    const summary = readFileSync(join(project.dir, 'summary.md'), 'utf8')
    clean('summary', summary)
    expect(summary).not.toMatch(/<[a-z/!?]/i)
    expect(summary).toContain('&lt;img src=x onerror=alert(1)&gt;')

    const jsonRun = await runMain(['deploy', '--json', '--no-verify'], { cwd: project.dir })
    expect(jsonRun.code).toBe(0)
    const out = jsonRun.stdout.text()
    clean('json', out.replace(/\n/g, ''))
    const ids = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; target?: { id: string } })
      .filter((e) => e.type === 'target:precheck')
      .map((e) => e.target?.id)
    expect(ids).toContain(`web-1${HOSTILE}`)

    for (const argv of [['plan'], ['plan', '--json'], ['status'], ['status', '--json']]) {
      const run = await runMain(argv, { cwd: project.dir })
      expect(run.code, `${argv.join(' ')}: ${run.stderr.text()}`).toBe(0)
      clean(argv.join(' '), run.stdout.text().replace(/\n/g, ''))
      clean(`${argv.join(' ')} stderr`, run.stderr.text().replace(/\n/g, ''))
    }
  })

  it('an error message carrying a value from the config or an adapter is printed safe', async () => {
    project = makeProject({ size: 1 })
    const run = await runMain(['deploy', '--plain', '--build', `v9${HOSTILE}`], { cwd: project.dir })
    expect(run.code).toBe(1)
    clean('stdout', run.stdout.text().replace(/\n/g, ''))
    expect(run.stdout.text()).toContain('no build v9\\x1b[2J')
  })
})
