// The CLI README's examples of error messages are what the CLI prints: each scenario run
// (the syntax error through the built bin, which loads a TypeScript config with jiti, as
// the published package does) and its line looked up in the README as printed.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI_ROOT, FIXTURES, type Project, exitWithin, makeProject, runBin, runMain } from './support/project.js'
import { existsSync } from 'node:fs'

const README = readFileSync(join(CLI_ROOT, 'README.md'), 'utf8')
const block = README.slice(README.indexOf('A config that cannot be used is reported'), README.indexOf('## Reporters'))
const lines = block.split('\n')
const built = existsSync(join(CLI_ROOT, 'dist/bin.js'))
const mustRun = process.env.CI === 'true'

let project: Project | undefined
afterEach(() => project?.remove())

const withBase = (extra: string) =>
  `import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}\nexport default (env) => ({ ...base(env), ${extra} })\n`

describe('the CLI README error examples', () => {
  it.skipIf(!built && !mustRun)('a syntax error, through the built bin (jiti)', async () => {
    project = makeProject({ size: 1 }, "import { defineConfig } from '@org/rolling-cli'\nexport default { service: ,}\n")
    const run = runBin(['plan'], { cwd: project.dir, dist: true })
    expect(await exitWithin(run, 30_000)).toBe(4)
    expect(lines).toContain(run.stderr.trimEnd())
  })

  it('a bad option in the file, a bad flag, a flag the recipe cannot honour', async () => {
    project = makeProject({ size: 1 }, withBase('batch: 0'))
    const printed = [
      (await runMain(['plan'], { cwd: project.dir })).stderr.text(),
      (await runMain(['deploy', '--batch', '0'], { cwd: project.dir })).stderr.text(),
    ]
    project.write('rollout.config.ts', withBase('deploy: { async deploy() {} }'))
    printed.push((await runMain(['plan', '--on-failure', 'rollback'], { cwd: project.dir })).stderr.text())
    for (const text of printed) expect(lines).toContain(text.trimEnd())
  })
})
