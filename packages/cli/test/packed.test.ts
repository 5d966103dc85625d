// The packages as a user gets them: `pnpm pack` of @org/rolling-core and @org/rolling-cli,
// installed from those tarballs (offline, from the pnpm store) into a scratch project that
// has no vitest. `@org/rolling-core/testing` (memoryFleet, FakeClock) imports and runs, as
// ESM and as CJS; the contract suites are their own entry, the one that needs vitest; the
// `rolling` bin of the tarball (no src/ in it) runs the build.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_ROOT } from './support/project.js'

const exec = promisify(execFile)
const CORE = join(CLI_ROOT, '../core')
const OTEL = join(CLI_ROOT, '../otel')
const PNPM = ['-y', 'pnpm@12.4.2']
// CI builds every package before the tests; a local run without a build skips, saying why.
const built = existsSync(join(CLI_ROOT, 'dist/bin.js')) && existsSync(join(CORE, 'dist/testing/index.js')) && existsSync(join(OTEL, 'dist'))
const mustRun = process.env.CI === 'true'

let dir = ''
const node = (args: string[]) => exec(process.execPath, args, { cwd: join(dir, 'app'), timeout: 30_000 })

describe.skipIf(!built && !mustRun)(`the packed packages in a project without vitest${built ? '' : ' (not built: run `pnpm -r build`)'}`, () => {
  beforeAll(async () => {
    expect(built, 'dist/ of @org/rolling-core, @org/rolling-otel and @org/rolling-cli exist (run `pnpm -r build`)').toBe(true)
    dir = mkdtempSync(join(tmpdir(), 'rolling-packed-'))
    const tgz = join(dir, 'tgz')
    await Promise.all([CORE, OTEL, CLI_ROOT].map((pkg) => exec('npx', [...PNPM, 'pack', '--pack-destination', tgz], { cwd: pkg, timeout: 60_000 })))
    const tarball = (name: string) => `file:${join(tgz, readdirSync(tgz).find((file) => file.startsWith(name)) as string)}`
    mkdirSync(join(dir, 'app'))
    const core = tarball('org-rolling-core-')
    writeFileSync(
      join(dir, 'app/package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        type: 'module',
        dependencies: { '@org/rolling-core': core, '@org/rolling-cli': tarball('org-rolling-cli-') },
      }),
    )
    // The CLI's tarball asks for @org/rolling-core and @org/rolling-otel 0.1.0, which no registry has: the local ones.
    writeFileSync(
      join(dir, 'app/pnpm-workspace.yaml'),
      `overrides:\n  '@org/rolling-core': '${core}'\n  '@org/rolling-otel': '${tarball('org-rolling-otel-')}'\n`,
    )
    await exec('npx', [...PNPM, 'install', '--offline'], { cwd: join(dir, 'app'), timeout: 60_000 })
    expect(existsSync(join(dir, 'app/node_modules/vitest'))).toBe(false)
  }, 120_000)
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  // A rollout of a 3-host memoryFleet to v2 with a 60 s settle, in no real time (the fake
  // clock advances itself when the process is idle): the kit works, not only loads.
  const script = (load: string) => `${load}
const clock = new FakeClock()
const fleet = memoryFleet({ size: 3, clock })
fleet.publish('v2')
const result = await rollout({ ...fleet.adapters, clock, journal: memoryJournal(), lock: memoryLock() })
console.log(result.status, fleet.targets.map((t) => fleet.hosts.get(t.id).version).join(','))`

  it('imports @org/rolling-core/testing as ESM and runs a rollout on memoryFleet with FakeClock', async () => {
    writeFileSync(
      join(dir, 'app/esm.mjs'),
      script(`import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'\nimport { FakeClock, memoryFleet } from '@org/rolling-core/testing'`),
    )
    const { stdout, stderr } = await node(['esm.mjs'])
    expect([stdout, stderr]).toEqual(['succeeded v2,v2,v2\n', ''])
  })

  it('requires it from CommonJS too', async () => {
    // No top-level await in CommonJS: the same script inside an async function.
    const body = script(
      `const { memoryJournal, memoryLock, rollout } = require('@org/rolling-core')\nconst { FakeClock, memoryFleet } = require('@org/rolling-core/testing')`,
    )
    writeFileSync(join(dir, 'app/cjs.cjs'), `;(async () => {\n${body}\n})()\n`)
    const { stdout } = await node(['cjs.cjs'])
    expect(stdout).toBe('succeeded v2,v2,v2\n')
  })

  it('keeps the contract suites, which need vitest, in @org/rolling-core/testing/contracts', async () => {
    const { stdout } = await node(['-e', "import('@org/rolling-core/testing/contracts').catch((e) => console.log(e.code, /'vitest'/.test(e.message)))"])
    expect(stdout).toBe('ERR_MODULE_NOT_FOUND true\n')
  })

  it("runs the tarball's rolling bin from its build", async () => {
    const { stdout } = await exec(join(dir, 'app/node_modules/.bin/rolling'), ['--help'], { cwd: join(dir, 'app'), timeout: 30_000 })
    expect(stdout.split('\n')[0]).toBe('rolling: roll a new build across the servers behind a load balancer, a batch at a time')
  })
})
