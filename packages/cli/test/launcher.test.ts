// `rolling` right after `pnpm install`: the bin pnpm links (what `npx rolling` and
// `pnpm exec rolling` run) works from the repository root and in every example, with no
// build, because a checkout's launcher runs the TypeScript sources (bin/rolling.js).
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CLI_ROOT } from './support/project.js'

const run = promisify(execFile)
const REPO = join(CLI_ROOT, '../..')
const DIRS = ['.', ...readdirSync(join(REPO, 'examples')).map((name) => `examples/${name}`)]
const HELP_FIRST_LINE = 'rolling: roll a new build across the servers behind a load balancer, a batch at a time'

describe.concurrent('the rolling bin linked by pnpm install', () => {
  it.each(DIRS)('%s: node_modules/.bin/rolling --help works', async (dir) => {
    const bin = join(REPO, dir, 'node_modules/.bin/rolling')
    expect(existsSync(bin), `${bin} exists: the package depends on @org/rolling-cli`).toBe(true)
    const { stdout, stderr } = await run(bin, ['--help'], { cwd: join(REPO, dir), timeout: 30_000 })
    expect(stdout.split('\n')[0]).toBe(HELP_FIRST_LINE)
    expect(stderr).toBe('')
  })

  it('npx rolling --version at the root finds the linked bin (no registry)', async () => {
    const { stdout } = await run('npx', ['--no-install', 'rolling', '--version'], { cwd: REPO, timeout: 30_000 })
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})
