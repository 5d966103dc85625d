// Every command the CLI suggests works when copied as printed. The config sits in a folder
// of its own with `stateDir: 'state'` and there is no config where the user stands, so a
// suggestion that leaves out --config (or --state-dir) looks in the wrong place and fails
// ("app is not locked", "no rollout recorded"). Each suggestion is taken from the real bin's
// output and run as printed through a shell with `rolling` on PATH (or `npx rolling`).
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type TestContext, describe, expect, it } from 'vitest'
import { CLI_ROOT, FIXTURES, type Project, exitWithin, makeProject, runBin } from './support/project.js'

const exec = promisify(execFile)
const LAUNCHER = join(CLI_ROOT, 'bin/rolling.js')
const CONFIG = 'deploy/rollout.config.ts'

/** A project for one test, removed when that test ends (its own context: the tests run concurrently). */
function setUp({ onTestFinished }: TestContext): Project {
  const p = makeProject({ size: 2, deployMs: 1500 })
  onTestFinished(() => p.remove())
  rmSync(join(p.dir, 'rollout.config.ts'))
  p.write(CONFIG, `import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}\nexport default (env) => ({ ...base(env), stateDir: 'state' })\n`)
  // `rolling` on PATH, and the project's own node_modules/.bin for `npx rolling`: the launcher pnpm links.
  mkdirSync(join(p.dir, 'bin'))
  symlinkSync(LAUNCHER, join(p.dir, 'bin/rolling'))
  mkdirSync(join(p.dir, 'node_modules/.bin'), { recursive: true })
  symlinkSync(LAUNCHER, join(p.dir, 'node_modules/.bin/rolling'))
  return p
}

/** The `rolling ...` commands a text suggests, in order. */
function suggestions(text: string): string[] {
  return [...text.matchAll(/`((?:npx )?rolling [^`]+)`/g)].map((m) => m[1] as string).filter((command) => !command.includes('--help'))
}

/** Runs a suggestion as a person pasting it would: one shell line in the project folder. */
async function paste(p: Project, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: `${join(p.dir, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME ?? '' }
  try {
    const { stdout, stderr } = await exec('sh', ['-c', command], { cwd: p.dir, env, timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString())
}

// Concurrent: each test has its own project folder, and most of their time is process start-up.
describe.concurrent('hints printed by the CLI, run as printed', () => {
  it('the stale-lock error: `rolling unlock app --config ...` breaks that lock', async (context) => {
    const project = setUp(context)
    mkdirSync(join(project.dir, 'deploy/state'), { recursive: true })
    const holder = { runId: 'r-dead', pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z', service: 'app' }
    writeFileSync(join(project.dir, 'deploy/state/app.lock'), JSON.stringify(holder))

    const refused = runBin(['deploy', '--config', CONFIG, '--plain'], { cwd: project.dir })
    expect(await exitWithin(refused, 30_000)).toBe(1)
    const hints = suggestions(refused.stdout + refused.stderr)
    expect(hints).toEqual([`rolling unlock app --config ${CONFIG}`])
    const unlocked = await paste(project, hints[0] as string)
    expect([unlocked.code, unlocked.stdout], unlocked.stderr).toEqual([0, expect.stringMatching(/^broke the lock of app held by run r-dead/)])
    expect(existsSync(join(project.dir, 'deploy/state/app.lock'))).toBe(false)
  })

  it('Ctrl-C twice, then the status and resume hints: each works; the resumed run says how to see it again', async (context) => {
    const project = setUp(context)
    const run = runBin(['deploy', '--config', CONFIG, '--plain', '--batch', '1'], { cwd: project.dir })
    await run.waitFor(/host-1 deploying v2/)
    run.child.kill('SIGINT')
    await run.waitFor(/waiting for host-1/)
    run.child.kill('SIGINT')
    expect(await exitWithin(run, 10_000)).toBe(130)
    expect(suggestions(run.stdout)).toEqual([`rolling resume --config ${CONFIG}`])

    // What the user types next, and what it suggests: resume (to finish), unlock (the stale lock).
    const status = await paste(project, `rolling status --config ${CONFIG}`)
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('status: interrupted')
    expect(suggestions(status.stdout)).toEqual([`rolling resume --config ${CONFIG}`, `rolling resume --config ${CONFIG}`, `rolling unlock --config ${CONFIG}`])

    const resumed = await paste(project, suggestions(run.stdout)[0] as string)
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
    ])
    expect(suggestions(resumed.stdout)).toEqual([`rolling status --config ${CONFIG}`])
    const again = await paste(project, `rolling status --config ${CONFIG}`)
    expect(again.stdout).toMatch(/\nstatus: succeeded at \S+: nothing to resume\n/)
    // The unlock suggested while it was interrupted still works once there is nothing to break.
    expect((await paste(project, `rolling unlock --config ${CONFIG}`)).code).toBe(0)
  })

  it('through npx (npm_command=exec) with --state-dir: `npx rolling status --config ... --state-dir ...` finds the run', async (context) => {
    const project = setUp(context)
    const run = runBin(['deploy', '--config', CONFIG, '--state-dir', 'elsewhere', '--plain', '--batch', '100%'], {
      cwd: project.dir,
      env: { npm_command: 'exec' },
    })
    expect(await exitWithin(run, 30_000), run.stderr).toBe(0)
    const hints = suggestions(run.stdout)
    expect(hints).toEqual([`npx rolling status --config ${CONFIG} --state-dir elsewhere`])
    const status = await paste(project, hints[0] as string)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(`journal: ${join(project.dir, 'elsewhere/app.journal.jsonl')}\n`)
    expect(status.stdout).toMatch(/\nstatus: succeeded at /)
  })
})
