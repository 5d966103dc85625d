// Fleet benchmark: a real rollout v1 -> v2 of 10 local hosts behind a private HAProxy,
// compared with its physical floor. Each host's app boots in 500 ms (`startupDelayMs`);
// HAProxy checks `inter 500ms rise 2 fall 2`. One rollout with batch 1, then (fresh fleet)
// one with batch 2; each RUNS times; stdout gets one JSON line per batch size whose every
// number is the median over the runs; the individual runs go to stderr.
//
// The floor is `batches x (start-up + time for HAProxy to see the host UP)`:
// - start-up: the configured 500 ms (the node process's own boot, measured, is overhead);
// - HAProxy UP: measured, not assumed. Before each rollout, against the same HAProxy, every
//   server is put through what the adapter's attach does (MAINT -> `state drain` +
//   `health down`, then wait for HAProxy's own `rise` fresh passing checks) with its app
//   already up, and the time from `health down` answered to `show servers state` saying
//   running is sampled (polled every 2 ms). `rise x inter` is printed next to it as the
//   nominal; a check runs every `inter` on the server's own schedule, so the real wait is
//   (time to the next check) + (rise - 1) x inter: between 1x and 2x inter for rise 2.
//
//   pnpm bench:fleet                                   3 runs of batch 1 and batch 2
//   pnpm bench:fleet --runs=1 --batches=2
//   pnpm bench:fleet --settle-interval=10 --poll-ms=20 knobs (see `flag` below)
//   pnpm bench:fleet --attach-poll-cap=20              what-if: constant polling (see below)
//   pnpm bench:fleet --strict                          exit 1 when a ratio is above 1.10
//
// Exit 1 when HAProxy is missing, a rollout does not succeed, or a host does not end on v2.
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { rollout, systemClock, type Clock, type Executor, type LoadBalancer, type RolloutResult } from '@org/rolling-core'
import { haproxyAvailable, startFleet, type Fleet, type HaproxyModule } from '@org/rolling-local-fleet'

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const num = (name: string, fallback: number) => {
  const raw = flag(name)
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`[bench:fleet] --${name}: expected a number >= 0, got ${raw}`)
  return value
}

const HOSTS = num('hosts', 10)
const STARTUP_MS = num('startup', 500)
const CHECK = { interMs: num('inter', 500), rise: num('rise', 2), fall: 2 }
const RUNS = num('runs', 3)
const BATCHES = (flag('batches') ?? '1,2').split(',').map(Number)
/** Settle: poll `_status` every this many ms (`settle.interval`), `successes` in a row. */
const SETTLE = { interval: num('settle-interval', 10), successes: num('settle-successes', 1), deadline: 15_000 }
/** `pollMs` of haproxyLoadBalancer: first delay of its drain/attach polls (then x1.5 up to 1 s). */
const POLL_MS = num('poll-ms', 200)
/**
 * What-if, 0 = off: caps every sleep of the engine's clock (which the adapter's waits use)
 * at this many ms. Each such sleep is followed by a re-check, so this is the adapter polling
 * at a constant interval instead of backing off; it shortens no deadline and skips no check.
 * Only meaningful here because `settle.delay` is 0 (a plain delay would be cut short).
 */
const POLL_CAP = num('attach-poll-cap', 0)
const SAMPLE_ROUNDS = num('up-rounds', 3)
const STRICT = args.includes('--strict')
const TARGET_RATIO = 1.1

interface Segments {
  /** batch:start -> detach starts: pre-check GET, beforeTarget hook, journal. */
  precheck: number
  /** The adapter's detach: `state drain`, poll until scur = qcur = 0, `state maint`. */
  detach: number
  /** Detached -> old app gets SIGTERM: sha256sum, tar, symlinks, `rm stopped` (4 execs + kill). */
  deploy_before_sigterm: number
  /** SIGTERM -> old app exited (graceful close, no load). */
  old_exit: number
  /** Old app exited -> supervisor spawned the new one. */
  respawn: number
  /** Spawn -> listening; includes the 500 ms start-up delay. */
  boot: number
  /** Listening -> `target:healthy` (settle poll lag, plus any deploy tail past the boot). */
  listening_to_healthy: number
  /** `target:healthy` -> `target:attached`: the adapter's attach. */
  attach: number
  /** attach minus the measured HAProxy UP time: the adapter's poll lag and commands. */
  attach_over_up: number
  /** Attached -> batch:end. */
  tail: number
  /** batch:end -> next batch:start (afterBatch/beforeBatch hooks, journal). */
  between: number
  /** Whole batch, batch:start -> batch:end. */
  batch: number
}

interface Run {
  wall_ms: number
  batches: number
  up_ms: number
  up_first_pass_ms: number
  before_first_batch_ms: number
  after_last_batch_ms: number
  /** Median over batches of each segment. */
  per_batch: Segments
  /** Median over targets of each deploy command's own duration (the executor's). */
  commands: Record<string, number>
  /** Median over targets of the result's `timings`. */
  timings: Record<string, number>
  /** When the deploy step returned, relative to the new app listening (negative: before). */
  deployed_vs_listening: number
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits
const medianOf = <T extends object>(rows: readonly T[]): T => {
  const out: Record<string, number> = {}
  for (const key of Object.keys(rows[0] ?? {})) out[key] = round(median(rows.map((r) => (r as Record<string, number>)[key] as number)))
  return out as T
}

/** `show servers state <be>` parsed by its header line: server name -> op state and check health. */
async function serverStates(api: ReturnType<HaproxyModule['runtimeApi']>, backend: string) {
  const text = await api.send(`show servers state ${backend}`)
  const lines = text.split('\n')
  const header =
    lines
      .find((l) => l.startsWith('# be_id'))
      ?.slice(2)
      .split(' ') ?? []
  const col = (name: string) => header.indexOf(name)
  const [name, op, health] = [col('srv_name'), col('srv_op_state'), col('srv_check_health')]
  const states = new Map<string, { op: number; health: number }>()
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || !line.includes(' ')) continue
    const f = line.split(' ')
    states.set(f[name] as string, { op: Number(f[op]), health: Number(f[health]) })
  }
  return states
}

/**
 * The isolated measurement: the attach sequence on every server of the fleet's HAProxy,
 * apps already up. Each server waits a random 0..2x inter in MAINT first (in a rollout it
 * sits there through deploy and boot), so its check schedule is sampled at random phases.
 */
async function measureUp(module: HaproxyModule, socket: string, servers: readonly string[]): Promise<{ up: number[]; firstPass: number[] }> {
  const api = module.runtimeApi(socket, { timeoutMs: 2000 })
  const up: number[] = []
  const firstPass: number[] = []
  for (let round = 0; round < SAMPLE_ROUNDS; round++) {
    const started = new Map<string, number>()
    const seen = new Map<string, { pass?: number; up?: number }>()
    let polling = true
    const poller = (async () => {
      while (polling) {
        const states = await serverStates(api, 'app')
        const now = performance.now()
        for (const [server, t0] of started) {
          const s = states.get(server)
          const mark = seen.get(server) ?? {}
          if (s && s.health >= 1 && mark.pass === undefined) mark.pass = now - t0
          if (s && s.op === 2 && mark.up === undefined) mark.up = now - t0
          seen.set(server, mark)
        }
        await sleep(2)
      }
    })()
    await Promise.all(
      servers.map(async (server) => {
        const ref = `app/${server}`
        await api.execute(`set server ${ref} state maint`)
        await sleep(Math.random() * 2 * CHECK.interMs)
        await api.execute(`set server ${ref} state drain`)
        await api.execute(`set server ${ref} health down`)
        started.set(server, performance.now())
        const deadline = Date.now() + 10 * CHECK.interMs * CHECK.rise
        while (seen.get(server)?.up === undefined) {
          if (Date.now() > deadline) throw new Error(`[bench:fleet] ${ref} did not come UP within ${10 * CHECK.rise} checks in the isolated measurement`)
          await sleep(5)
        }
        await api.execute(`set server ${ref} state ready`)
      }),
    )
    polling = false
    await poller
    for (const mark of seen.values()) {
      up.push(mark.up as number)
      if (mark.pass !== undefined) firstPass.push(mark.pass)
    }
  }
  return { up, firstPass }
}

/** The fleet recipe's commands, by what they do (first match wins). */
const COMMAND_KINDS: [string, RegExp][] = [
  ['sha256sum', /sha256sum/],
  ['unpack', /tar .*-xzf/],
  ['switch', /ln -sfn/],
  ['restart', /kill -TERM/],
  ['prune', /ls -1t releases/],
  ['version', /release\.json/],
]

type Stamp = { t: number; target?: string }

async function runOnce(module: HaproxyModule, batch: number): Promise<Run> {
  const fleet: Fleet = await startFleet({ size: HOSTS, lb: 'haproxy', startupDelayMs: STARTUP_MS, check: CHECK })
  try {
    await fleet.publish('v2')
    const socket = join(fleet.dir, 'haproxy', 'admin.sock')
    const samples = await measureUp(
      module,
      socket,
      fleet.hosts.map((h) => h.id),
    )
    // Let every server be UP and checked normally again before the rollout discovers them.
    await sleep(CHECK.interMs * 2)
    const lb: LoadBalancer = module.haproxyLoadBalancer({ socket, backends: ['app'], pollMs: POLL_MS })
    const clock: Clock = POLL_CAP > 0 ? { ...systemClock, sleep: (ms, signal) => systemClock.sleep(Math.min(ms, POLL_CAP), signal) } : systemClock

    // Each command the recipe runs, timed at the executor.
    const commands: Record<string, number[]> = {}
    const executor: Executor = {
      ...fleet.executor,
      async run(target, request, ctx) {
        const command = typeof request === 'string' ? request : request.command
        const start = performance.now()
        try {
          return await fleet.executor.run(target, request, ctx)
        } finally {
          const kind = COMMAND_KINDS.find(([, re]) => re.test(command))?.[0] ?? 'other'
          const list = commands[kind] ?? []
          list.push(performance.now() - start)
          commands[kind] = list
        }
      },
    }
    const stamps = new Map<string, Stamp[]>()
    const stamp = (event: string, target?: string) => {
      const list = stamps.get(event) ?? []
      list.push({ t: Date.now(), ...(target === undefined ? {} : { target }) })
      stamps.set(event, list)
    }
    const run = rollout({
      service: fleet.service,
      loadBalancer: lb,
      artifacts: fleet.artifacts,
      executor,
      deploy: fleet.recipe,
      batch,
      settle: SETTLE,
      stateDir: join(fleet.dir, 'state'),
      clock,
    })
    run.on('batch:start', () => stamp('batch:start'))
    run.on('batch:end', () => stamp('batch:end'))
    for (const event of ['target:detached', 'target:deploying', 'target:deployed', 'target:healthy', 'target:attached'] as const) {
      run.on(event, ({ target }) => stamp(event, target.id))
    }
    const result: RolloutResult = await run
    if (result.status !== 'succeeded') throw new Error(`[bench:fleet] rollout ${result.status}: ${result.reason}`)
    for (const host of fleet.hosts) {
      if (host.version !== 'v2') throw new Error(`[bench:fleet] ${host.id} ended on ${host.version}, not v2`)
    }

    const upMs = median(samples.up)
    const at = (event: string, target: string) => stamps.get(event)?.find((s) => s.target === target)?.t ?? Number.NaN
    const starts = stamps.get('batch:start') ?? []
    const ends = stamps.get('batch:end') ?? []
    const segments: Segments[] = []
    const deployedVsListening: number[] = []
    for (let b = 0; b < result.batches; b++) {
      const t0 = starts[b]?.t ?? Number.NaN
      const end = ends[b]?.t ?? Number.NaN
      const reports = result.targets.filter((r) => r.batch === b)
      // The critical path runs through the target that became healthy last.
      const chains = reports.map((r) => {
        const host = fleet.hosts.find((h) => h.id === r.target.id.split('/').pop())
        const procs = host?.processes ?? []
        const fresh = procs.find((p) => p.version === 'v2')
        const old = procs[procs.indexOf(fresh as (typeof procs)[number]) - 1]
        const detached = at('target:detached', r.target.id)
        deployedVsListening.push(at('target:deployed', r.target.id) - (fresh?.listeningAt ?? Number.NaN))
        return {
          r,
          detachStart: detached - (r.timings.detach ?? 0),
          detached,
          sigterm: old?.sigtermAt ?? Number.NaN,
          exited: old?.exitedAt ?? Number.NaN,
          spawned: fresh?.spawnedAt ?? Number.NaN,
          listening: fresh?.listeningAt ?? Number.NaN,
          healthy: at('target:healthy', r.target.id),
          attached: at('target:attached', r.target.id),
        }
      })
      const c = chains.reduce((a, x) => (x.healthy > a.healthy ? x : a))
      const attach = c.attached - c.healthy
      segments.push({
        precheck: c.detachStart - t0,
        detach: c.detached - c.detachStart,
        deploy_before_sigterm: c.sigterm - c.detached,
        old_exit: c.exited - c.sigterm,
        respawn: c.spawned - c.exited,
        boot: c.listening - c.spawned,
        listening_to_healthy: c.healthy - c.listening,
        attach,
        attach_over_up: attach - upMs,
        tail: end - c.attached,
        between: b + 1 < result.batches ? (starts[b + 1]?.t ?? Number.NaN) - end : Number.NaN,
        batch: end - t0,
      })
    }
    const timings: Record<string, number> = {}
    for (const phase of ['precheck', 'detach', 'deploy', 'settle', 'attach', 'verify'] as const) {
      timings[phase] = round(median(result.targets.map((r) => r.timings[phase] ?? Number.NaN)))
    }
    return {
      wall_ms: result.durationMs,
      batches: result.batches,
      up_ms: upMs,
      up_first_pass_ms: median(samples.firstPass),
      before_first_batch_ms: (starts[0]?.t ?? Number.NaN) - result.startedAt,
      after_last_batch_ms: result.endedAt - (ends.at(-1)?.t ?? Number.NaN),
      per_batch: medianOf(segments),
      commands: Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, round(median(v))])),
      timings,
      deployed_vs_listening: median(deployedVsListening),
    }
  } finally {
    await fleet.stop()
  }
}

const found = await haproxyAvailable()
if ('error' in found) {
  console.error(`[bench:fleet] needs HAProxy, which cannot run here: ${found.error}. Install it (apt-get install -y haproxy) and run again.`)
  process.exit(1)
}

const settings = {
  hosts: HOSTS,
  startup_ms: STARTUP_MS,
  check: `inter ${CHECK.interMs}ms rise ${CHECK.rise} fall ${CHECK.fall}`,
  settle: SETTLE,
  haproxy_poll_ms: POLL_MS,
  attach_poll_cap_ms: POLL_CAP || undefined,
}
process.stderr.write(`[bench:fleet] ${JSON.stringify(settings)}\n`)
let failed = false
const ratios: number[] = []
for (const batch of BATCHES) {
  const runs: Run[] = []
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await runOnce(found.module, batch)
      process.stderr.write(`  batch ${batch} run ${i + 1}/${RUNS}: ${JSON.stringify(r)}\n`)
      runs.push(r)
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    failed = true
    continue
  }
  const pick = (f: (r: Run) => number) => median(runs.map(f))
  // Per run, so the ratio's median is a real run's ratio rather than a ratio of medians.
  const floorOf = (r: Run) => r.batches * (STARTUP_MS + r.up_ms)
  const ratio = round(
    pick((r) => r.wall_ms / floorOf(r)),
    3,
  )
  ratios.push(ratio)
  console.log(
    JSON.stringify({
      batch,
      hosts: HOSTS,
      runs: RUNS,
      batches: pick((r) => r.batches),
      wall_ms: round(pick((r) => r.wall_ms)),
      floor_ms: round(pick(floorOf)),
      ratio,
      target_ratio: TARGET_RATIO,
      floor_basis: 'batches x (configured start-up + measured HAProxy UP after `health down`)',
      haproxy_up_ms: {
        measured: round(pick((r) => r.up_ms)),
        first_fresh_pass: round(pick((r) => r.up_first_pass_ms)),
        nominal_rise_x_inter: CHECK.rise * CHECK.interMs,
      },
      // The same floor with the app's real start-up on this machine (SIGTERM of the old app ->
      // new app listening, i.e. exit + respawn + node boot + the 500 ms), not the configured one.
      ratio_vs_measured_startup_floor: round(
        pick((r) => r.wall_ms / (r.batches * (r.per_batch.old_exit + r.per_batch.respawn + r.per_batch.boot + r.up_ms))),
        3,
      ),
      ratio_vs_nominal_floor: round(
        pick((r) => r.wall_ms / (r.batches * (STARTUP_MS + CHECK.rise * CHECK.interMs))),
        3,
      ),
      before_first_batch_ms: round(pick((r) => r.before_first_batch_ms)),
      after_last_batch_ms: round(pick((r) => r.after_last_batch_ms)),
      per_batch_ms: medianOf(runs.map((r) => r.per_batch)),
      deploy_commands_ms: medianOf(runs.map((r) => r.commands)),
      timings_ms: medianOf(runs.map((r) => r.timings)),
      deployed_vs_listening_ms: round(pick((r) => r.deployed_vs_listening)),
      settings,
    }),
  )
}
if (failed) process.exit(1)
if (STRICT && ratios.some((r) => r > TARGET_RATIO)) process.exit(1)
