// The real `rolling` executable in a child process: from source (node with tsx and the
// @org/source condition, as in the workspace) and from the built dist/bin.js, where a
// rollout.config.ts importing @org/rolling-core is loaded through jiti.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN_DIST, CLI_ROOT, type Project, exitWithin, makeProject, normalise, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

describe('the bin from source', () => {
  it('prints the help and exits 0', async () => {
    const run = runBin(['--help'], { cwd: CLI_ROOT })
    expect(await exitWithin(run, 15_000)).toBe(0)
    expect(run.stdout.split('\n')[0]).toBe('rolling: roll a new build across the servers behind a load balancer, a batch at a time')
    expect(run.stdout).toContain('\nExit codes:\n    0  succeeded\n')
    expect(run.stderr).toBe('')
  })

  it('prints plain lines when stdout is a pipe, and exits with the rollout status (2: halted)', async () => {
    project = makeProject({ size: 2, breakOnDeploy: ['host-1'] })
    const run = runBin(['deploy'], { cwd: project.dir })
    expect(await exitWithin(run, 20_000)).toBe(2)
    expect(normalise(run.stdout.trim().split('\n')).slice(-4)).toEqual([
      'halted: host-1 (127.0.10.1:8080) failed its settle',
      'targets: 1 failed, 1 pending (2 in 2 batch(es), T)',
      'needs attention: host-1 (127.0.10.1:8080) failed in settle, left out of the load balancer: status 503',
      'exit 2 (halted)',
    ])
  })

  it('exits 4 on a bad flag, with one line on stderr', async () => {
    project = makeProject({ size: 1 })
    const run = runBin(['deploy', '--batch', '0'], { cwd: project.dir })
    expect(await exitWithin(run, 15_000)).toBe(4)
    expect(run.stderr).toBe("rolling deploy: invalid --batch '0': expected a count >= 1, a percentage like 25% or a schedule like 1,10%,50%\n")
    expect(run.stdout).toBe('')
  })
})

// CI builds every package before the tests (`pnpm test` runs the checks, which build); a
// local run without a build skips these, saying why.
const built = existsSync(BIN_DIST) && existsSync(join(CLI_ROOT, '../core/dist/testing/index.js'))
const mustRun = process.env.CI === 'true'

describe.skipIf(!built && !mustRun)(`the built bin (dist/bin.js${built ? '' : ': not built, run `pnpm -r build`'})`, () => {
  it('loads a TypeScript config that imports @org/rolling-core through jiti, plans and deploys', async () => {
    expect(built, 'dist/bin.js and @org/rolling-core dist exist (run `pnpm -r build`)').toBe(true)
    project = makeProject({ size: 2 })
    const version = runBin(['--version'], { cwd: project.dir, dist: true })
    expect(await exitWithin(version, 15_000)).toBe(0)
    expect(version.stdout).toBe(`${(JSON.parse(readFileSync(join(CLI_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`)

    const plan = runBin(['plan'], { cwd: project.dir, dist: true })
    expect(await exitWithin(plan, 30_000)).toBe(0)
    expect(plan.stdout.split('\n')[0]).toBe('plan for app: build v2 (built 2026-01-01T00:00:00.000Z, sha256 41c6d3072efa)')

    const deploy = runBin(['deploy', '--batch', '100%'], { cwd: project.dir, dist: true })
    expect(await exitWithin(deploy, 30_000)).toBe(0)
    expect(normalise(deploy.stdout.trim().split('\n')).at(-1)).toBe('exit 0 (succeeded)')
    expect(project.fleet().hosts.every((h) => h.version === 'v2' && h.inService)).toBe(true)
  })
})

/**
 * Node flags that record every package the process imports (ESM resolve hook, in the hooks
 * thread) into `log`, one bare specifier a line.
 */
function recordImports(log: string): string[] {
  const hooks = `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  if (!/^(node:|[./]|file:|data:)/.test(specifier)) appendFileSync(${JSON.stringify(log)}, specifier + '\\n')
  return next(specifier, context)
}`
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)})`
  return ['--import', `data:text/javascript,${encodeURIComponent(register)}`]
}

const COSTLY = ['undici', 'jiti', 'string-width', 'cli-truncate', 'vitest', '@vitest/expect']

describe.skipIf(!built && !mustRun)('the built bin starts without what it does not need', () => {
  // What costs a start-up: undici (~100 ms), jiti (~60 ms plus its transform), the terminal
  // view's text-width tables, a test runner. Checked by what is imported, not by a timing.
  it('--help imports no undici, jiti, string-width or vitest; a JavaScript config is loaded without jiti', async () => {
    expect(built, 'dist/bin.js and @org/rolling-core dist exist (run `pnpm -r build`)').toBe(true)
    project = makeProject({ size: 2 })
    const log = join(project.dir, 'imports.log')
    const help = runBin(['--help'], { cwd: project.dir, dist: true, nodeArgs: recordImports(log) })
    expect(await exitWithin(help, 15_000)).toBe(0)
    const imported = () => [...new Set(readFileSync(log, 'utf8').trim().split('\n'))].sort()
    // The hook sees the imports (the engine is one); none of the costly ones is among them.
    expect(imported()).toContain('@org/rolling-core')
    expect(imported().filter((name) => COSTLY.includes(name))).toEqual([])

    // A plain JavaScript config: imported natively, so neither jiti nor the terminal view loads.
    project.write('rollout.config.mjs', `export default { service: 'app', deploy: { deploy() {} } }\n`)
    project.write('rollout.config.ts', '')
    const status = runBin(['status', '--config', 'rollout.config.mjs'], { cwd: project.dir, dist: true, nodeArgs: recordImports(log) })
    expect(await exitWithin(status, 15_000), status.stderr).toBe(0)
    expect(status.stdout).toContain('no rollout recorded')
    expect(imported().filter((name) => COSTLY.includes(name))).toEqual([])
  })
})
