// The rollout state on S3 (moto, which enforces conditional writes as S3 does) through the CLI:
// `--state s3://bucket/prefix` and the config's `state`, between real processes with state
// folders of their own, as two CI runners: a lock race in 20 rounds, a holder SIGSTOPped past its
// lease that finds itself fenced off at SIGCONT, and a runner SIGKILLed mid-batch whose rollout
// `rolling resume` finishes from another folder; `rolling status` reads it all from anywhere.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { s3State } from '@org/rolling-s3'
import { type MotoS3, startMotoS3 } from '@org/rolling-s3/testing'
import { systemClock } from '@org/rolling-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFleet, writeFleet } from './fixtures/file-fleet.js'
import { Capture, FIXTURES, TSX, runBin, runMain } from './support/project.js'

let s3: MotoS3
let root: string
const children: ChildProcess[] = []
const saved = { ...process.env }

/** What the AWS SDK of any process reads to reach moto (`main` in this one reads process.env too). */
const awsEnv = (): Record<string, string> => ({
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
})

beforeAll(async () => {
  s3 = await startMotoS3({ bucket: 'state' })
  Object.assign(process.env, awsEnv())
  root = mkdtempSync(join(tmpdir(), 'rolling-cli-s3-'))
}, 30_000)
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const key of Object.keys(awsEnv())) if (saved[key] === undefined) delete process.env[key]
  await s3?.stop()
  rmSync(root, { recursive: true, force: true })
})

let projects = 0
/** A project folder (its own state folder) whose config is the S3 fleet fixture; `fleet` is shared when given. */
function project(options: { size?: number; deployMs?: number; fleet?: string; config?: string } = {}) {
  const dir = join(root, `p${++projects}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n')
  writeFileSync(join(dir, 'rollout.config.ts'), options.config ?? `export { default } from ${JSON.stringify(join(FIXTURES, 's3-fleet.config.ts'))}\n`)
  const fleet = options.fleet ?? join(dir, 'fleet.json')
  if (!options.fleet) writeFleet(fleet, { size: options.size ?? 2, deployMs: options.deployMs ?? 0 })
  return { dir, fleet, env: { FLEET_FILE: join('..', fleet.slice(root.length + 1)) } }
}

describe('--state s3://bucket/prefix', () => {
  it('refuses a bad URL or a second place for the state, naming the option and the value', async () => {
    const { dir } = project()
    for (const [argv, message] of [
      [['deploy', '--state', 's3:/state/x'], "rolling deploy: invalid --state 's3:/state/x': expected an S3 URL s3://bucket/prefix (for a folder, use --state-dir or `stateDir`)"],
      [['status', 'app', '--state', 's3://Bad_Bucket/x'], "rolling status: invalid --state 's3://Bad_Bucket/x': expected an S3 URL s3://bucket/prefix"],
      [['resume', '--state', 's3://state/../x'], "rolling resume: invalid --state 's3://state/../x'"],
      [['unlock', '--state', 's3://state/p', '--state-dir', 'x'], 'rolling unlock: --state and --state-dir cannot be used together'],
    ] as const) {
      const run = await runMain([...argv], { cwd: dir, env: {} })
      expect(run.stderr.text()).toContain(message)
      expect(run.code).toBe(4)
    }
    const bad = project({ config: `import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}\nexport default (env) => ({ ...base(env), state: 's3:bucket' })\n` })
    const run = await runMain(['deploy'], { cwd: bad.dir, env: {} })
    expect(run.stderr.text()).toMatch(/rollout\.config\.ts: `state` expected an S3 URL s3:\/\/bucket\/prefix .* got "s3:bucket"/)
    expect(run.code).toBe(4)
    expect(readFleet(bad.fleet).calls).toEqual([])
  })

  it('deploy on one machine; status reads it from another folder without a config', async () => {
    const a = project()
    const deployed = await runMain(['deploy', '--plain', '--state', 's3://state/status/'], { cwd: a.dir, env: a.env })
    expect(deployed.code, deployed.stderr.text()).toBe(0)
    const elsewhere = join(root, 'elsewhere')
    mkdirSync(elsewhere)
    const status = await runMain(['status', 'app', '--json', '--state', 's3://state/status/'], { cwd: elsewhere, env: {} })
    expect(status.code, status.stderr.text()).toBe(0)
    expect(JSON.parse(status.stdout.text())).toMatchObject({ service: 'app', journal: 's3://state/status/app/journal.jsonl', state: 'succeeded', lock: null })
  })

  it('unlock refuses a lock whose lease still runs, and breaks it once the lease ended; status tells which', async () => {
    const elsewhere = mkdtempSync(join(root, 'unlock-'))
    // A holder whose heartbeat never fires, as a paused runner's: its 400 ms lease runs out.
    const paused = { ...systemClock, setTimeout: () => undefined, clearTimeout: () => {} }
    const holder = s3State({ bucket: 'state', prefix: 'unlock/', lock: { leaseMs: 400, renewEveryMs: 100, clock: paused } })
    await holder.lock.acquire('web', { runId: 'r-held', pid: 4242, host: 'runner-7', since: new Date().toISOString(), service: 'web' })
    const refused = await runMain(['unlock', 'web', '--state', 's3://state/unlock/'], { cwd: elsewhere, env: {} })
    expect(refused.stderr.text()).toMatch(
      /rolling unlock: web is locked by run r-held \(pid 4242 on runner-7\) since \S+, whose lease runs until \S+ \(s3:\/\/state\/unlock\/\): it is most likely still running/,
    )
    expect(refused.code).toBe(1)
    expect((await runMain(['status', 'web', '--state', 's3://state/unlock/'], { cwd: elsewhere, env: {} })).stdout.text()).toMatch(
      /lock: held by run r-held .*; its lease runs until /,
    )
    await new Promise((resolve) => setTimeout(resolve, 450))
    expect((await runMain(['status', 'web', '--state', 's3://state/unlock/'], { cwd: elsewhere, env: {} })).stdout.text()).toMatch(
      /lock: held by run r-held .*; its lease ended at \S+: stale/,
    )
    const broken = await runMain(['unlock', 'web', '--state', 's3://state/unlock/'], { cwd: elsewhere, env: {} })
    expect(broken.stdout.text()).toMatch(/broke the lock of web held by run r-held \(pid 4242 on runner-7\) since \S+; its lease had ended at /)
    expect(broken.code).toBe(0)
    expect(await holder.lock.inspect('web')).toBeUndefined()
    holder.destroy()
  })

  it('approve and abort from another folder reach a paused rollout through the store', async () => {
    for (const [kind, code, shows] of [
      ['approve', 0, /pause after batch 1\/2 ended: approved by \S+ \(canary ok\)/],
      ['abort', 3, /pause after batch 1\/2 ended: aborted by \S+/],
    ] as const) {
      const a = project({ size: 2 })
      const url = `s3://state/control-${kind}/`
      const stdout = new Capture()
      const deploying = runMain(['deploy', '--plain', '--pause-after', '1', '--state', url], { cwd: a.dir, env: a.env, stdout })
      await stdout.waitFor('paused after batch 1/2', 20_000)
      expect(stdout.text()).toContain(`(through ${url})`)
      const elsewhere = mkdtempSync(join(root, `${kind}-`))
      const sent = await runMain([kind, 'app', '--state', url, ...(kind === 'approve' ? ['--note', 'canary ok'] : [])], { cwd: elsewhere, env: {} })
      expect(sent.code, sent.stderr.text()).toBe(0)
      expect(sent.stdout.text()).toMatch(new RegExp(`${kind === 'approve' ? 'approval' : 'abort'} sent to run r-\\S+ of app \\(paused after batch 1\\) through ${url}`))
      const deployed = await deploying
      expect(stdout.text()).toMatch(shows)
      expect(deployed.code).toBe(code)
      expect(readFleet(a.fleet).hosts.map((h) => h.version)).toEqual(kind === 'approve' ? ['v2', 'v2'] : ['v2', 'v1'])
    }
  }, 60_000)

  it('two runners deploy one service 20 times with their own state folders on one prefix: exactly one runs each round, the other is refused naming it', async () => {
    const rounds = 20
    const runners = [project({ size: 1, deployMs: 400 }), project({ size: 1, deployMs: 400 })].map((p) => {
      const child = spawn(process.execPath, ['--conditions', '@org/source', '--import', TSX, join(FIXTURES, 'deploy-rounds.ts'), p.dir, '--plain', '--state', 's3://state/race/'], {
        env: { ...process.env, ...awsEnv(), ...p.env, ROLLING_REDEPLOY: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      children.push(child)
      let out = ''
      let err = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
      })
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString()
      })
      const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ready?: boolean; round?: number; code?: number; output?: string })
      /** Waits for the runner's `n`-th line (0: ready), naming what it printed when it does not come. */
      const line = async (n: number) => {
        for (const until = Date.now() + 30_000; Date.now() < until; ) {
          const got = lines()[n]
          if (got) return got
          if (child.exitCode !== null) break
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        throw new Error(`runner in ${p.dir}: no line ${n}; stdout ${out}; stderr ${err}`)
      }
      return { ...p, child, line, stderr: () => err }
    })
    expect(await Promise.all(runners.map((r) => r.line(0)))).toEqual([
      { ready: true, output: '' },
      { ready: true, output: '' },
    ])
    const wins = [0, 0]
    for (let round = 0; round < rounds; round++) {
      // Both start at once, each after both finished the last round.
      for (const r of runners) r.child.stdin?.write('go\n')
      const both = await Promise.all(runners.map((r) => r.line(round + 1)))
      expect(both.map((l) => l.code).sort(), JSON.stringify(both)).toEqual([0, 1])
      const w = both.findIndex((l) => l.code === 0)
      wins[w] = (wins[w] as number) + 1
      expect(both[1 - w]?.output).toMatch(new RegExp(`service app is already being rolled out by run r-\\S+ \\(pid ${runners[w]?.child.pid} on host `))
    }
    for (const r of runners) r.child.stdin?.end()
    expect(runners.map((r) => r.stderr())).toEqual(['', ''])
    // The refused runner touched no host: two discovers (plan, verify) per round won, in the winner's fleet.
    expect(runners.map((r) => readFleet(r.fleet).calls.filter((c) => c.op === 'discover').length)).toEqual(wins.map((n) => 2 * n))
  }, 60_000)
})

describe('a runner that stops holding its lease', () => {
  const lease = (prefix: string) => ({ ...awsEnv(), ROLLING_S3_BUCKET: 'state', ROLLING_S3_PREFIX: prefix, ROLLING_S3_LEASE_MS: '1000' })

  it('SIGSTOPped past its lease: another folder resumes it; at SIGCONT the first finds its fencing token stale and stops without touching a host', async () => {
    const a = project({ size: 2 })
    const first = runBin(['deploy', '--json'], { cwd: a.dir, env: { ...a.env, ...lease('stop/'), ROLLING_SETTLE_MS: '2500' } })
    children.push(first.child)
    // Settling host-1: what is in flight is a wait, nothing that changes a host.
    await first.waitFor(/"target:deployed"/, 30_000)
    first.child.kill('SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 1300))
    const b = project({ fleet: a.fleet })
    const resumed = await runMain(['resume', '--plain', '--settle', '5', '--state', 's3://state/stop/'], { cwd: b.dir, env: b.env })
    expect(resumed.code, resumed.stdout.text() + resumed.stderr.text()).toBe(0)
    expect(resumed.stderr.text() + resumed.stdout.text()).toMatch(/taking over the stale lock of interrupted run|succeeded/)
    const calls = readFleet(a.fleet).calls.length
    first.child.kill('SIGCONT')
    expect(await first.exited).toBe(1)
    // Its lease ended while it was stopped: its next transition is refused by the lease check, or,
    // when a journal write was already on its way, by the journal's compare-and-swap.
    expect(first.stdout + first.stderr).toMatch(
      /lost the lock s3:\/\/state\/stop\/app\/lock\.json \(fencing token \d+\)|journal s3:\/\/state\/stop\/app\/journal\.jsonl: written by another run since this one last read it, by the holder of fencing token \d+, which took the lock over/,
    )
    const fleet = readFleet(a.fleet)
    expect(fleet.calls.length).toBe(calls)
    // Nothing of the fenced-off run landed after the resumed run's end.
    const state = s3State({ bucket: 'state', prefix: 'stop/' })
    const records = await state.journal('app').read()
    state.destroy()
    expect(records.at(-1)).toMatchObject({ type: 'end', status: 'succeeded' })
    expect(records.filter((r) => r.type === 'end')).toHaveLength(1)
    expect(fleet.hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
    ])
    const status = await runMain(['status', 'app', '--json', '--state', 's3://state/stop/'], { cwd: b.dir, env: b.env })
    expect(JSON.parse(status.stdout.text())).toMatchObject({ state: 'succeeded', lock: null })
  }, 60_000)

  it('SIGKILLed mid-batch: `rolling status --state` shows it interrupted, `rolling resume --state` from another folder finishes it', async () => {
    const a = project({ size: 3 })
    const first = runBin(['deploy', '--json'], { cwd: a.dir, env: { ...a.env, ...lease('kill/'), ROLLING_SETTLE_MS: '400' } })
    children.push(first.child)
    await first.waitFor(/"target:deployed"/, 30_000)
    first.child.kill('SIGKILL')
    await first.exited
    const b = project({ fleet: a.fleet })
    // S3 cannot tell a dead holder from a slow one until its lease ends; `status` says which it is.
    const status = await runMain(['status', 'app', '--state', 's3://state/kill/'], { cwd: b.dir, env: b.env })
    // The hint repeats --state: it works as printed from any folder.
    expect(status.stdout.text()).toMatch(/status: interrupted: `rolling resume --state s3:\/\/state\/kill\/` finishes it/)
    expect(status.stdout.text()).toMatch(/lock: held by run \S+ .*; its lease (runs until|ended at) /)
    // On this host resume sees the pid is gone; from another host it waits for the lease to end
    // (the SIGSTOP test above).
    const resumed = await runMain(['resume', '--plain', '--settle', '5', '--state', 's3://state/kill/'], { cwd: b.dir, env: b.env })
    expect(resumed.code, resumed.stdout.text() + resumed.stderr.text()).toBe(0)
    expect(readFleet(a.fleet).hosts.map((h) => [h.version, h.inService])).toEqual([
      ['v2', true],
      ['v2', true],
      ['v2', true],
    ])
    const after = await runMain(['status', 'app', '--json', '--state', 's3://state/kill/'], { cwd: b.dir, env: b.env })
    expect(JSON.parse(after.stdout.text())).toMatchObject({ state: 'succeeded', lock: null })
  }, 60_000)
})
