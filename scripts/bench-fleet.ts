// Fleet benchmark: the path users run. A real rollout v1 -> v2 of 10 local hosts behind a
// private HAProxy 2.6 (`inter 500 rise 2 fall 2`, `retries 0`), each app listening 500 ms
// after it starts, under 200 req/s through the frontend (a load process of its own), with
// `haproxyLoadBalancer` + `releaseRecipe` + `fileArtifacts` and polling settle (100 ms, 3
// successes). Two executors, one row each: `ssh` (`sshExecutor` to a private sshd on
// loopback, SFTP transfer) and `local` (the core's `localExecutor`, transfer 'copy').
// Batch 1 and batch 2, RUNS runs each, a fresh fleet per run.
//
// Per run (stderr) and as medians (stdout, one JSON line per executor x batch):
// - wall: the rollout's durationMs;
// - floor: the app's own, measured in the same run: per batch, the longest of its hosts'
//   "restart began (old app got SIGTERM) -> new app listening", summed over the batches;
// - wall/floor; failed requests (errors + non-2xx) during the rollout; p99 before / during;
// - per phase per batch: the median over batches of the batch's longest target in each phase
//   (precheck, prepare, detach, deploy, settle, attach; the next batch's prepare runs during
//   this batch's deploy and settle, so only batch 1's is in the wall time), and of the batch
//   (batch:start -> batch:end); outside_batches: the rest of the wall (discover, plan, lock,
//   the fleet checks between batches, verify);
// - lb_up: per host, new app listening -> HAProxy has it in service again (its own column:
//   settle + the attach at HAProxy's check schedule), median and max;
// - out_of_service: per host, detach began -> back in service (median).
// Then the built `rolling` binary's time to its first event (`deploy --json`, first line), and
// what its start-up spends importing.
//
//   pnpm bench:fleet                                 3 runs x (ssh, local) x (batch 1, 2), 10 hosts
//   pnpm bench:fleet --quick                         1 run, 4 hosts
//   pnpm bench:fleet --runs=1 --hosts=6 --batches=2 --executors=ssh
//   pnpm bench:fleet --no-cli                        skip the CLI start-up measurement
//
// Exit 1 when HAProxy or sshd is missing, a rollout does not succeed, or a host does not end on v2.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { localExecutor, rollout, type Executor, type Phase, type RolloutResult } from '@org/rolling-core'
import { haproxyAvailable, restartCommand, startFleet, startLoadProcess, type Fleet, type HaproxyModule } from '@org/rolling-local-fleet'
import { releaseRecipe, sshExecutor, type SshExecutor } from '@org/rolling-ssh'
import { sshdMissing, startSshd, type Sshd } from '../packages/ssh-deployer/test/sshd.js'

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const QUICK = args.includes('--quick')
const num = (name: string, fallback: number) => {
  const raw = flag(name)
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isFinite(value) || value < 1) throw new Error(`[bench:fleet] --${name}: expected a number >= 1, got ${raw}`)
  return value
}
const HOSTS = num('hosts', QUICK ? 4 : 10)
const RUNS = num('runs', QUICK ? 1 : 3)
const RATE = num('rate', 200)
const STARTUP_MS = num('startup', 500)
const CHECK = { interMs: 500, rise: 2, fall: 2 }
const SETTLE = { interval: 100, successes: 3, deadline: 15_000 }
const BATCHES = (flag('batches') ?? '1,2').split(',').map(Number)
const EXECUTORS = (flag('executors') ?? 'ssh,local').split(',') as ('ssh' | 'local')[]
const ROOT = resolve(import.meta.dirname, '..')
const PHASES: Phase[] = ['precheck', 'prepare', 'detach', 'deploy', 'settle', 'attach']

interface Run {
  wall_ms: number
  floor_ms: number
  ratio: number
  failed_requests: number
  requests: number
  p99_before_ms: number
  p99_during_ms: number
  batches: number
  /** Median over batches of each batch's longest target per phase, and of the batch. */
  per_batch_ms: Record<string, number>
  /** Wall time not inside a batch: discover, plan, lock, fleet checks between batches, verify. */
  outside_batches_ms: number
  lb_up_ms: number
  lb_up_max_ms: number
  out_of_service_ms: number
  /** SSH only: handshakes per host and connect time (executor stats), medians. */
  ssh?: { connections: number; connect_ms: number; commands: number; command_ms: number }
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits
const max = (values: readonly number[]) => {
  const finite = values.filter(Number.isFinite)
  return finite.length === 0 ? Number.NaN : Math.max(...finite)
}

/** Watches HAProxy: for each server, when it was last seen leaving service and coming back. */
function watchHaproxy(module: HaproxyModule, socket: string) {
  const api = module.runtimeApi(socket, { timeoutMs: 2000 })
  const backIn = new Map<string, number>()
  const out = new Set<string>()
  let polling = true
  const done = (async () => {
    while (polling) {
      const text = await api.send('show servers state app').catch(() => '')
      const lines = text.split('\n')
      const header =
        lines
          .find((l) => l.startsWith('# be_id'))
          ?.slice(2)
          .split(' ') ?? []
      const [name, op, admin] = ['srv_name', 'srv_op_state', 'srv_admin_state'].map((c) => header.indexOf(c)) as [number, number, number]
      const now = Date.now()
      for (const line of lines) {
        if (line === '' || line.startsWith('#') || !line.includes(' ')) continue
        const f = line.split(' ')
        const server = f[name] as string
        const ready = Number(f[admin]) === 0 && Number(f[op]) === 2
        if (!ready) out.add(server)
        else if (out.delete(server)) backIn.set(server, now)
      }
      await sleep(5)
    }
  })()
  return {
    backIn,
    stop: async () => {
      polling = false
      await done
    },
  }
}

async function runOnce(module: HaproxyModule, kind: 'ssh' | 'local', batch: number, sshd: Sshd | undefined): Promise<Run> {
  const fleet: Fleet = await startFleet({ size: HOSTS, lb: 'haproxy', startupDelayMs: STARTUP_MS, check: CHECK, retries: 0 })
  let ssh: SshExecutor | undefined
  try {
    await fleet.publish('v2')
    const socket = join(fleet.dir, 'haproxy', 'admin.sock')
    const lb = module.haproxyLoadBalancer({ socket, backends: ['app'] })
    const root = (target: { id: string }) => join(fleet.dir, 'hosts', basename(target.id))
    let executor: Executor
    let deploy: ReturnType<typeof releaseRecipe>
    if (kind === 'ssh') {
      const s = sshd as Sshd
      ssh = sshExecutor({
        username: 'root',
        port: s.port,
        privateKey: s.clientKey,
        hostKeys: { knownHostsText: s.knownHosts(fleet.targets.map((t) => t.address)) },
      })
      executor = ssh
      deploy = releaseRecipe({ root, transfer: 'sftp', executor: ssh, restart: restartCommand(), keep: 3 })
    } else {
      executor = localExecutor()
      deploy = releaseRecipe({ root, transfer: 'copy', restart: restartCommand(), keep: 3 })
    }
    const stamps = new Map<string, number>()
    const load = await startLoadProcess(fleet.url, RATE)
    const watch = watchHaproxy(module, socket)
    let result: RolloutResult
    let before: Awaited<ReturnType<typeof load.mark>>
    let during: Awaited<ReturnType<typeof load.mark>>
    try {
      await sleep(2000)
      before = await load.mark()
      const run = rollout({
        service: fleet.service,
        loadBalancer: lb,
        artifacts: fleet.artifacts,
        executor,
        deploy,
        batch,
        settle: SETTLE,
        stateDir: join(fleet.dir, 'state'),
      })
      run.on('target:detaching', ({ target }) => void stamps.set(`detaching ${target.id}`, Date.now()))
      run.on('batch:start', ({ index }) => void stamps.set(`start ${index}`, Date.now()))
      run.on('batch:end', ({ index }) => void stamps.set(`end ${index}`, Date.now()))
      result = await run
      await sleep(200)
      during = await load.mark()
    } finally {
      await watch.stop()
      await load.stop()
    }
    if (result.status !== 'succeeded') throw new Error(`[bench:fleet] ${kind} batch ${batch}: rollout ${result.status}: ${result.reason}`)
    for (const host of fleet.hosts) {
      if (host.version !== 'v2') throw new Error(`[bench:fleet] ${host.id} ended on ${host.version}, not v2`)
    }

    // The app's own floor and the LB's time, from the supervisor's record of each process.
    const restartMs = new Map<string, number>()
    const lbUp: number[] = []
    const outOfService: number[] = []
    for (const host of fleet.hosts) {
      const fresh = host.processes.find((p) => p.version === 'v2')
      const old = host.processes[host.processes.indexOf(fresh as (typeof host.processes)[number]) - 1]
      restartMs.set(host.id, (fresh?.listeningAt ?? Number.NaN) - (old?.sigtermAt ?? Number.NaN))
      const back = watch.backIn.get(host.id) ?? Number.NaN
      lbUp.push(back - (fresh?.listeningAt ?? Number.NaN))
      outOfService.push(back - (stamps.get(`detaching app/${host.id}`) ?? Number.NaN))
    }
    const perBatch: Record<string, number[]> = {}
    let floor = 0
    for (let b = 0; b < result.batches; b++) {
      const reports = result.targets.filter((r) => r.batch === b)
      floor += max(reports.map((r) => restartMs.get(basename(r.target.id)) ?? Number.NaN))
      for (const phase of PHASES) {
        const list = perBatch[phase] ?? []
        list.push(max(reports.map((r) => r.timings[phase] ?? 0)))
        perBatch[phase] = list
      }
    }
    const batchMs: number[] = []
    for (let b = 0; b < result.batches; b++) batchMs.push((stamps.get(`end ${b}`) ?? Number.NaN) - (stamps.get(`start ${b}`) ?? Number.NaN))
    const inBatches = batchMs.reduce((a, b) => a + b, 0)
    const stats = ssh?.stats() ?? []
    return {
      wall_ms: round(result.durationMs ?? Number.NaN),
      floor_ms: round(floor),
      ratio: round((result.durationMs ?? Number.NaN) / floor, 3),
      failed_requests: during.errors + during.non2xx,
      requests: during.requests,
      p99_before_ms: round(before.latency.p99, 1),
      p99_during_ms: round(during.latency.p99, 1),
      batches: result.batches,
      per_batch_ms: { ...Object.fromEntries(Object.entries(perBatch).map(([k, v]) => [k, round(median(v))])), batch: round(median(batchMs)) },
      outside_batches_ms: round((result.durationMs ?? Number.NaN) - inBatches),
      lb_up_ms: round(median(lbUp)),
      lb_up_max_ms: round(max(lbUp)),
      out_of_service_ms: round(median(outOfService)),
      ...(ssh
        ? {
            ssh: {
              connections: median(stats.map((s) => s.connections)),
              connect_ms: round(median(stats.map((s) => s.connectMs)), 1),
              commands: median(stats.map((s) => s.commands)),
              command_ms: round(median(stats.map((s) => s.commandMs)), 1),
            },
          }
        : {}),
    }
  } finally {
    await ssh?.close().catch(() => {})
    await fleet.stop()
  }
}

function medianRun(runs: readonly Run[]): Record<string, unknown> {
  const pick = (f: (r: Run) => number) => round(median(runs.map(f)), 3)
  const phases = Object.keys(runs[0]?.per_batch_ms ?? {})
  return {
    wall_ms: pick((r) => r.wall_ms),
    floor_ms: pick((r) => r.floor_ms),
    ratio: pick((r) => r.ratio),
    failed_requests: pick((r) => r.failed_requests),
    p99_before_ms: pick((r) => r.p99_before_ms),
    p99_during_ms: pick((r) => r.p99_during_ms),
    per_batch_ms: Object.fromEntries(phases.map((p) => [p, pick((r) => r.per_batch_ms[p] as number)])),
    outside_batches_ms: pick((r) => r.outside_batches_ms),
    lb_up_ms: pick((r) => r.lb_up_ms),
    lb_up_max_ms: pick((r) => r.lb_up_max_ms),
    out_of_service_ms: pick((r) => r.out_of_service_ms),
  }
}

/** ms from spawn to the first line on stdout, and to exit. */
function timeToFirstLine(argv: string[], cwd: string): Promise<{ first: number; exit: number; line: string }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
    let first = Number.NaN
    let line = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number.isNaN(first)) {
        first = performance.now() - started
        line = chunk.toString().split('\n')[0] ?? ''
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0 && Number.isNaN(first)) reject(new Error(`[bench:fleet] ${argv.join(' ')} exited ${code}: ${err.trim().slice(0, 400)}`))
      else resolvePromise({ first, exit: performance.now() - started, line })
    })
  })
}

/** The built CLI's start-up: time to its first event, and what importing its parts costs. */
async function measureCli(): Promise<Record<string, unknown>> {
  const bin = join(ROOT, 'packages/cli/dist/bin.js')
  if (!existsSync(bin)) {
    process.stderr.write('[bench:fleet] building the CLI and its dependencies (pnpm --filter @org/rolling-cli... build)\n')
    await new Promise<void>((ok, fail) =>
      spawn('pnpm', ['--filter', '@org/rolling-cli...', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).on('exit', (code) =>
        code === 0 ? ok() : fail(new Error(`[bench:fleet] building the CLI failed (${code})`)),
      ),
    )
  }
  // Under the CLI package, so the config resolves @org/rolling-core as a user's would (its dist).
  const dir = join(ROOT, 'packages/cli/node_modules/.bench-fleet')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const config = [
    "import { memoryFleet } from '@org/rolling-core/testing'",
    "const fleet = memoryFleet({ size: 3 }); fleet.publish('v2')",
    'export default { ...fleet.adapters, settle: { delay: 0 }, verify: false }',
  ].join('\n')
  await writeFile(join(dir, 'rollout.config.mjs'), `${config}\n`)
  await writeFile(join(dir, 'rollout.config.ts'), `${config}\n`)
  const samples = async (argv: string[]) => {
    const runs = []
    for (let i = 0; i < 5; i++) runs.push(await timeToFirstLine(argv, dir))
    return { first_ms: round(median(runs.map((r) => r.first))), exit_ms: round(median(runs.map((r) => r.exit))), first_line: runs[0]?.line.slice(0, 80) }
  }
  const imports = async (specifier: string) => {
    const code = `const t=performance.now();await import(${JSON.stringify(specifier)});console.log(String(performance.now()-t))`
    const runs = []
    for (let i = 0; i < 3; i++) {
      const r = await new Promise<number>((ok) => {
        let out = ''
        const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString()
        })
        child.on('exit', () => ok(out.trim() === '' ? Number.NaN : Number(out.trim())))
      })
      runs.push(r)
    }
    return round(median(runs))
  }
  return {
    target_first_event_ms: 200,
    node_empty_ms: (await samples(['-e', 'console.log(1)'])).first_ms,
    version: await samples([bin, '--version']),
    deploy_json_mjs_config: await samples([bin, 'deploy', '--json', '--config', 'rollout.config.mjs']),
    deploy_json_ts_config: await samples([bin, 'deploy', '--json', '--config', 'rollout.config.ts']),
    import_ms: {
      cli: await imports(join(ROOT, 'packages/cli/dist/index.js')),
      undici: await imports(join(ROOT, 'packages/core/node_modules/undici/index.js')),
      core: await imports('@org/rolling-core'),
      core_testing: await imports('@org/rolling-core/testing'),
      jiti: await imports(join(ROOT, 'packages/cli/node_modules/jiti/lib/jiti.mjs')),
    },
  }
}

const found = await haproxyAvailable()
if ('error' in found) {
  console.error(`[bench:fleet] needs HAProxy, which cannot run here: ${found.error}. Install it (apt-get install -y haproxy) and run again.`)
  process.exit(1)
}
const missing = EXECUTORS.includes('ssh') ? sshdMissing : undefined
if (missing) {
  console.error(`[bench:fleet] the ssh row needs OpenSSH's sshd: ${missing} (apt-get install -y openssh-server), or pass --executors=local`)
  process.exit(1)
}
const settings = { hosts: HOSTS, runs: RUNS, rate: RATE, startup_ms: STARTUP_MS, check: CHECK, settle: SETTLE, batches: BATCHES, executors: EXECUTORS }
process.stderr.write(`[bench:fleet] ${JSON.stringify(settings)}\n`)
const sshd = EXECUTORS.includes('ssh') ? await startSshd() : undefined
let failed = false
try {
  for (const kind of EXECUTORS) {
    for (const batch of BATCHES) {
      const runs: Run[] = []
      try {
        for (let i = 0; i < RUNS; i++) {
          const r = await runOnce(found.module, kind, batch, sshd)
          process.stderr.write(`  ${kind} batch ${batch} run ${i + 1}/${RUNS}: ${JSON.stringify(r)}\n`)
          runs.push(r)
        }
      } catch (error) {
        console.error(error instanceof Error ? error.message : error)
        failed = true
        continue
      }
      const target = batch === 1 ? 1.25 : 1.35
      console.log(JSON.stringify({ executor: kind, batch, hosts: HOSTS, runs: RUNS, median: medianRun(runs), target_ratio: target }))
    }
  }
} finally {
  await sshd?.stop()
}
if (!args.includes('--no-cli')) {
  try {
    console.log(JSON.stringify({ cli: await measureCli() }))
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    failed = true
  }
}
if (failed) process.exit(1)
