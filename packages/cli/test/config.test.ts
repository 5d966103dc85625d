// Config files and flags: how the config is found and loaded (.ts natively or through jiti,
// .js/.mjs, a function of the environment), and every way a config or a flag can be wrong:
// one line naming the file (or the flag), the option and the bad value, and exit 4.
import { afterEach, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/index.js'
import { FIXTURES, type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const FLEET = JSON.stringify(join(FIXTURES, 'file-fleet.ts'))
const DEFINE = JSON.stringify(join(FIXTURES, '../../src/config/define.ts'))

/** A config over the test fleet with `extra` spread into it. */
function configWith(extra: string): string {
  return [
    `import { defineConfig } from ${DEFINE}`,
    `import { fileFleet } from ${FLEET}`,
    'export default defineConfig(({ cwd }) => {',
    "  const fleet = fileFleet(cwd + '/fleet.json')",
    '  return {',
    '    service: fleet.service,',
    '    loadBalancer: fleet.loadBalancer,',
    '    artifacts: fleet.artifacts,',
    '    executor: fleet.executor,',
    '    healthCheck: fleet.healthCheck,',
    '    deploy: fleet.recipe,',
    `    ${extra}`,
    '  }',
    '})',
    '',
  ].join('\n')
}

async function expectBadConfig(argv: string[], stderr: string) {
  const run = await runMain(argv, { cwd: (project as Project).dir })
  expect(run.stderr.text()).toBe(`${stderr}\n`)
  expect(run.stdout.text()).toBe('')
  expect(run.code).toBe(4)
  expect((project as Project).fleet().calls).toEqual([])
}

describe('finding and loading the config', () => {
  it('says where it looked when there is no config file, and when --config names a missing one', async () => {
    project = makeProject({ size: 1 })
    project.write('rollout.config.ts', '')
    rmSync(join(project.dir, 'rollout.config.ts'))
    await expectBadConfig(
      ['plan'],
      `no config file: looked for rollout.config.ts, rollout.config.mts, rollout.config.js, rollout.config.mjs in ${project.dir}; pass --config <file>`,
    )
    await expectBadConfig(['plan', '--config', 'deploy/missing.ts'], 'deploy/missing.ts: config file not found')
    await expectBadConfig(['plan', '-c', '.'], '.: not a file')
  })

  it('reports a syntax error, a missing default export and a default export of the wrong kind', async () => {
    project = makeProject({ size: 1 }, 'export default {\n  service: "app",,\n}\n')
    const syntax = await runMain(['plan'], { cwd: project.dir })
    expect(syntax.code).toBe(4)
    // Each loader words it its own way; the line says where.
    expect(syntax.stderr.text()).toMatch(/^rollout\.config\.ts: cannot load the config: .*rollout\.config\.ts:2:\d+.*\n$/)

    project.write('rollout.config.ts', 'export const service = "app"\n')
    await expectBadConfig(['plan'], 'rollout.config.ts: no default export; write `export default defineConfig({ ... })`')
    project.write('rollout.config.mts', 'export default "app"\n')
    await expectBadConfig(
      ['plan', '-c', 'rollout.config.mts'],
      "rollout.config.mts: the default export must be a config object or a function returning one, got the string 'app'",
    )
    project.write('throws.config.ts', 'export default () => { throw new Error("FLEET_FILE is not set") }\n')
    await expectBadConfig(['plan', '-c', 'throws.config.ts'], 'throws.config.ts: the config function threw: FLEET_FILE is not set')
  })

  it('reports an option core refuses with the file, the option and the value', async () => {
    project = makeProject({ size: 1 }, configWith('batch: 0,'))
    await expectBadConfig(['plan'], "rollout.config.ts: `batch` expected a count (an integer >= 1) or a percentage like '25%', got 0")
    project.write('rollout.config.ts', configWith('settle: { delay: 5, deadline: 1000 },'))
    await expectBadConfig(
      ['deploy'],
      'rollout.config.ts: `settle.interval` expected a polling interval when settle.deadline or settle.successes is set, got undefined',
    )
    project.write('rollout.config.ts', configWith("batch: [1, '10%', '0%'],"))
    await expectBadConfig(['deploy'], "rollout.config.ts: `batch[2]` expected a percentage above '0%' up to '100%', got '0%'")
    project.write('rollout.config.ts', configWith("service: 'my app',"))
    await expectBadConfig(['resume'], "rollout.config.ts: `service` expected a name of letters, digits, `.`, `_` or `-`, got 'my app'")
  })

  it('refuses an unknown option (a typo) instead of ignoring it', async () => {
    project = makeProject({ size: 1 }, configWith("batchs: '25%',"))
    const run = await runMain(['plan'], { cwd: project.dir })
    expect(run.stderr.text()).toBe('rollout.config.ts: unknown option batchs: did you mean batch?\n')
    expect(run.code).toBe(4)
    project.write('rollout.config.ts', configWith('runId: "r-1",'))
    expect((await runMain(['plan'], { cwd: project.dir })).stderr.text()).toMatch(
      /^rollout\.config\.ts: option `runId` cannot be set in a config \(the CLI sets it\); /,
    )
  })

  it('refuses unknown nested options and a stateDir that is not a folder path, for every command', async () => {
    project = makeProject({ size: 1 }, configWith('settle: { delay: 0, intervall: 500 },'))
    await expectBadConfig(['deploy'], 'rollout.config.ts: unknown option settle.intervall: did you mean settle.interval?')
    project.write('rollout.config.ts', configWith('timeouts: { deplyo: 1000 },'))
    await expectBadConfig(['plan'], 'rollout.config.ts: unknown option timeouts.deplyo: did you mean timeouts.deploy?')
    project.write('rollout.config.ts', configWith('timeouts: { deploy: 3e9 },'))
    await expectBadConfig(['deploy'], 'rollout.config.ts: `timeouts.deploy` 3000000000 ms is above the largest timer Node supports (2147483647 ms, ~24.8 days)')
    project.write('rollout.config.ts', configWith(''))
    await expectBadConfig(
      ['deploy', '--settle', '3000000000'],
      '--settle 3000000000: `settle.delay` 3000000000 ms is above the largest timer Node supports (2147483647 ms, ~24.8 days)',
    )
    for (const [value, shown] of [
      ["''", "''"],
      ['42', '42'],
    ] as const) {
      project.write('rollout.config.ts', configWith(`stateDir: ${value},`))
      for (const command of ['deploy', 'status', 'unlock']) {
        await expectBadConfig([command], `rollout.config.ts: \`stateDir\` expected a folder path, got ${shown}`)
      }
    }
  })

  it('calls a config function with the command, the environment, the directory and the file', async () => {
    project = makeProject({ size: 2 })
    project.write(
      'rollout.config.mjs',
      [
        `import { fileFleet } from ${FLEET}`,
        'export default async ({ command, env, cwd, file }) => {',
        "  const fleet = fileFleet(cwd + '/fleet.json')",
        "  if (!file.endsWith('rollout.config.mjs')) throw new Error('wrong file ' + file)",
        '  return { service: fleet.service, loadBalancer: fleet.loadBalancer, artifacts: fleet.artifacts, executor: fleet.executor,',
        "    healthCheck: fleet.healthCheck, deploy: fleet.recipe, version: env.BUILD, batch: command === 'plan' ? '100%' : 1 }",
        '}',
        '',
      ].join('\n'),
    )
    const run = await runMain(['plan', '-c', 'rollout.config.mjs'], { cwd: project.dir, env: { BUILD: 'v1' } })
    expect(run.stderr.text()).toBe('')
    expect(run.stdout.lines().slice(0, 3)).toEqual([
      'plan for app: build v1 (built 2026-01-01T00:00:00.000Z, sha256 4be899fcc231)',
      '2 target(s) in service, 1 batch(es):',
      '  batch 1/1: host-1 (127.0.10.1:8080), host-2 (127.0.10.2:8080)',
    ])
  })

  it('prefers rollout.config.ts over .js and .mjs in the working directory', async () => {
    project = makeProject({ size: 1 })
    project.write('rollout.config.mjs', 'export default "not me"\n')
    project.write('rollout.config.js', 'export default "not me either"\n')
    expect((await runMain(['plan'], { cwd: project.dir })).code).toBe(0)
  })

  it('loads TypeScript through jiti when the runtime cannot (types, enums, extensionless imports)', async () => {
    project = makeProject({ size: 1 })
    project.write('lib/names.ts', 'export enum Tier { Canary = 1, Rest = 50 }\nexport const name: string = "checkout"\n')
    const file = project.write(
      'jiti.config.ts',
      `import { Tier, name } from './lib/names'
interface Options { service: string; batch: (number | \`\${number}%\`)[] }
const options = { service: name, batch: [Tier.Canary, \`\${Tier.Rest}%\`] } satisfies Options
export default options
`,
    )
    const loaded = await loadConfig({ cwd: project.dir, command: 'plan', env: {}, explicit: 'jiti.config.ts', loader: 'jiti' })
    expect(loaded).toEqual({ file, shown: 'jiti.config.ts', config: { service: 'checkout', batch: [1, '50%'] } })

    project.write('broken.config.ts', 'const x: number = \nexport default {}\n')
    await expect(loadConfig({ cwd: project.dir, command: 'plan', env: {}, explicit: 'broken.config.ts', loader: 'jiti' })).rejects.toThrow(
      /^broken\.config\.ts: cannot load the config: .*broken\.config\.ts:2:\d+/,
    )
  })
})

describe('flags', () => {
  it('rejects bad flag values with the flag and the value, before touching anything', async () => {
    project = makeProject({ size: 1 })
    const schedule = 'expected a count >= 1, a percentage like 25% or a schedule like 1,10%,50%'
    await expectBadConfig(['deploy', '--batch', '0'], `rolling deploy: invalid --batch '0': ${schedule}`)
    await expectBadConfig(['deploy', '--batch', '1,0%'], `rolling deploy: invalid --batch '1,0%': ${schedule}`)
    await expectBadConfig(['plan', '--batch', 'many'], `rolling plan: invalid --batch 'many': ${schedule}`)
    await expectBadConfig(['deploy', '--min-healthy', '120%'], "rolling deploy: invalid --min-healthy '120%': expected a count >= 0 or a percentage like 75%")
    await expectBadConfig(['deploy', '--settle', '10x'], "rolling deploy: invalid --settle '10x': expected a duration like 500, 500ms, 10s or 2m")
    await expectBadConfig(
      ['deploy', '--settle-interval', '0'],
      "rolling deploy: invalid --settle-interval '0': expected a duration like 500, 500ms, 10s or 2m (at least 1ms)",
    )
    await expectBadConfig(['deploy', '--on-failure', 'retry'], "rolling deploy: invalid --on-failure 'retry': expected halt or rollback")
    await expectBadConfig(['deploy', '--max-stopped', '1.5'], "rolling deploy: invalid --max-stopped '1.5': expected an integer >= 0")
    await expectBadConfig(['deploy', '--build', ''], "rolling deploy: invalid --build '': expected 'latest' or a version name")
  })

  it('rejects unknown flags, missing values, stray arguments and flags a command does not take', async () => {
    project = makeProject({ size: 1 })
    await expectBadConfig(['deploy', '--bacth', '2'], 'rolling deploy: unknown flag --bacth; see `rolling deploy --help`')
    await expectBadConfig(['deploy', '--batch'], 'rolling deploy: --batch needs a value; see `rolling deploy --help`')
    await expectBadConfig(['deploy', '--json=yes'], 'rolling deploy: --json takes no value; see `rolling deploy --help`')
    await expectBadConfig(['deploy', 'now'], "rolling deploy: unexpected argument 'now'; see `rolling deploy --help`")
    await expectBadConfig(['resume', '--batch', '2'], 'rolling resume: unknown flag --batch; see `rolling resume --help`')
    await expectBadConfig(['status', 'a', 'b'], "rolling status: unexpected argument 'b'; see `rolling status --help`")
    await expectBadConfig(
      ['deplyo'],
      "rolling: unknown command 'deplyo'; did you mean 'deploy'?; the commands are plan, deploy, resume, status, unlock, approve, abort",
    )
    await expectBadConfig(['--batch', '2'], 'rolling: expected a command before --batch: rolling <command> [flags]; see `rolling --help`')
  })

  it('reports a flag that core refuses against the config by the flag', async () => {
    // A deploy function has no rollback step: --on-failure rollback cannot work with it.
    project = makeProject({ size: 1 }, configWith('deploy: async () => {},'))
    await expectBadConfig(
      ['deploy', '--on-failure', 'rollback'],
      "--on-failure rollback: `onFailure` expected a deploy recipe with a rollback() step when onFailure is 'rollback', got 'rollback'",
    )
  })

  it('overrides single settle fields and keeps the rest of the config', async () => {
    project = makeProject({ size: 1 }, configWith('settle: { delay: 60000, interval: 250, successes: 2 },'))
    const run = await runMain(['plan', '--settle', '0', '--settle-deadline', '2m'], { cwd: project.dir })
    expect(run.stderr.text()).toBe('')
    expect(run.stdout.lines()).toContain('settle: wait 0ms, then poll _status every 250ms until 2 checks pass in a row (give up 2m00s after the deploy)')
  })
})
