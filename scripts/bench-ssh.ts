// SSH benchmark: a real rollout (core `rollout()`) of the release recipe over SSH to 20
// hosts, batch 5, with a small .tar.gz artifact uploaded over SFTP. Where the time goes per
// host (connect, upload, commands, the executor's own overhead) and how many TCP
// connections each host got, counted by sshd itself.
//
// Setup, all in one temp folder removed at the end (and on Ctrl-C):
// - one private OpenSSH server (the ssh package's test harness: own host key, client key and
//   config, LogLevel VERBOSE) listening on 0.0.0.0; the 20 targets 127.0.0.2..21 are each
//   dialled at their own address, so sshd's "Connection from ... on <address> port <port>"
//   lines tell the hosts apart. Host keys are strict: a generated known_hosts file lists the
//   server's key for `[127.0.0.N]:<port>`.
// - each host is a folder `<tmp>/hosts/host-NN` (the recipe's root): releases/, current, ...
// - the load balancer is core's in-memory one (`memoryLoadBalancer`, no drain/attach time).
// - the health check is real HTTP: core's `httpHealthCheck` against one tiny node:http server
//   per target address, answering `/_status` with the version of that host's
//   `current/.rolling-release.json` (written by the recipe), so a target only settles once
//   its `current` really points at the new release.
// - restart is a shell builtin writing the version to a file (cheap, but a real command).
//
// Each run seeds v1 with a first rollout (own executor, not measured: it also warms up the
// process), then measures the rollout of v2 with a fresh executor. The connections of a host
// are sshd's log lines for its address during the measured rollout only.
//
// stdout: one JSON line per host, then a summary line (median and max of each field, wall
// time, whether the targets hold). Per host:
// - connect_ms: SSH handshake + authentication (executor stats)
// - upload_ms: SFTP transfer of the artifact
// - commands_ms: exec channel lifetimes (open, run on the host, exit status, close)
// - overhead_ms: wall time of the host's run()/upload() calls minus the three above: the
//   executor's own time, including waiting for its pool outside the handshake (stricter than
//   stats().overheadMs, which leaves all waiting out; that one is `stats_overhead_ms`)
// - connections: TCP connections sshd accepted on that address (its log), next to
//   `executor_connections` (what the executor thinks it opened)
// - deploy_ms: the engine's deploy phase for the host (prepare + upload + install + switch + restart + prune)
//
// The summary adds, for scale (measured after the rollout, outside its connection count):
// - command_floor_ms: one `true` on an open, idle connection (exec channel round trips +
//   sshd starting the session's shell), median of 20
// - openssh_connect_and_true_ms: `ssh host true` with OpenSSH's own client (median of 5),
//   what a fresh connection + first command costs on this machine without ssh2
// - loadavg_1m and cpus: the numbers are only as quiet as the machine
//
// Targets (issue): overhead_ms < 50 per host; exactly 1 connection per host.
//
//   pnpm bench:ssh                      20 hosts, batch 5
//   pnpm bench:ssh --hosts=10 --batch=2
//   pnpm bench:ssh --strict             exit 1 when a target is missed
//
// Exit 1 when sshd is missing, a rollout does not succeed, or a host does not end on v2.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { type Server, createServer } from 'node:http'
import { availableParallelism, loadavg, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { fileArtifacts, httpHealthCheck, rollout, systemClock, type RolloutResult, type Target } from '@org/rolling-core'
import { memoryLoadBalancer } from '@org/rolling-core/testing'
import { releaseRecipe, sshExecutor, type HostStats, type SshExecutor } from '@org/rolling-ssh'
import { freePort, sshdMissing, startSshd, type Sshd } from '../packages/ssh-deployer/test/sshd.js'

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const int = (name: string, fallback: number, max: number) => {
  const raw = flag(name)
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`[bench:ssh] --${name}: expected an integer from 1 to ${max}, got ${raw}`)
  return value
}
const HOSTS = int('hosts', 20, 250)
const BATCH = int('batch', 5, HOSTS)
const STRICT = args.includes('--strict')
const OVERHEAD_TARGET_MS = 50
/** The whole run (setup, two rollouts, probe) gives up after this long. */
const DEADLINE_MS = 5 * 60_000
const SERVICE = 'bench'

const run = promisify(execFile)
const round = (ms: number) => Math.round(ms * 10) / 10

if (sshdMissing) {
  console.error(`[bench:ssh] cannot run: ${sshdMissing}. This benchmark starts a private OpenSSH server on loopback.`)
  process.exit(1)
}

interface HostLine {
  host: string
  address: string
  connect_ms: number
  upload_ms: number
  commands_ms: number
  overhead_ms: number
  connections: number
  executor_connections: number
  commands: number
  upload_bytes: number
  total_ms: number
  stats_overhead_ms: number
  deploy_ms: number
}

// Everything to undo, in reverse order; safe to call twice (Ctrl-C during the finally).
const cleanups: (() => Promise<unknown>)[] = []
let cleaned: Promise<void> | undefined
const cleanup = () => {
  cleaned ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => console.error(`[bench:ssh] cleanup: ${String(error)}`))
  })()
  return cleaned
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench:ssh] ${signal}: cleaning up`)
    void cleanup().finally(() => process.exit(130))
  })
}

const wallStarted = performance.now()
const loadStart = loadavg()[0] ?? 0
const deadline = new AbortController()
const watchdog = setTimeout(() => deadline.abort(new Error(`[bench:ssh] gave up after ${DEADLINE_MS / 1000} s`)), DEADLINE_MS)
watchdog.unref()

let exitCode = 0
try {
  exitCode = await main()
} catch (error) {
  console.error(`[bench:ssh] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  exitCode = 1
} finally {
  await cleanup()
  clearTimeout(watchdog)
}
process.exit(exitCode)

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'rolling-bench-ssh-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))

  const sshd = await startSshd()
  cleanups.push(() => sshd.stop())

  const targets: Target[] = []
  const httpPort = await freePort('127.0.0.2')
  for (let i = 0; i < HOSTS; i++) {
    const address = `127.0.0.${i + 2}`
    targets.push({ id: `host-${String(i + 1).padStart(2, '0')}`, address, port: httpPort })
  }
  const rootOf = (target: Target) => join(dir, 'hosts', target.id)
  for (const target of targets) await mkdir(rootOf(target), { recursive: true })
  const knownHosts = join(dir, 'known_hosts')
  await writeFile(knownHosts, `${sshd.knownHosts(targets.map((t) => t.address))}\n`)
  const uploadDir = join(dir, 'upload')
  await mkdir(uploadDir)

  // One `/_status` server per address: the version `current` points at, read per request.
  const servers = await Promise.all(targets.map((target) => statusServer(target, rootOf(target))))
  cleanups.push(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))))

  const artifacts = fileArtifacts({ root: join(dir, 'artifacts') })
  const artifactBytes: Record<string, number> = {}
  for (const version of ['v1', 'v2']) {
    const file = await buildArtifact(dir, version)
    artifactBytes[version] = (await artifacts.publish(SERVICE, file, { version })).size
  }

  const loadBalancer = memoryLoadBalancer({ targets })
  const healthCheck = httpHealthCheck({ timeoutMs: 2000 })
  cleanups.push(() => healthCheck.close())

  const newExecutor = () =>
    sshExecutor({
      username: userInfo().username,
      port: sshd.port,
      privateKeyPath: sshd.clientKeyFile,
      hostKeys: { knownHosts },
    })
  const roll = async (version: string, executor: SshExecutor): Promise<RolloutResult> => {
    const warnings: string[] = []
    const started = rollout({
      service: SERVICE,
      loadBalancer,
      artifacts,
      executor,
      deploy: releaseRecipe({ root: rootOf, transfer: 'sftp', executor, restart: 'echo "$ROLLING_VERSION" > restarted', keep: 3, uploadDir }),
      healthCheck,
      version,
      batch: BATCH,
      settle: { interval: 10, successes: 1, deadline: 10_000 },
      stateDir: join(dir, `state-${version}`),
      signal: deadline.signal,
    })
    started.on('warning', ({ message }) => void warnings.push(message))
    const result = await started
    for (const message of warnings) console.error(`[bench:ssh] warning during ${version}: ${message}`)
    if (result.status !== 'succeeded') throw new Error(`rollout of ${version} ${result.status}: ${result.reason ?? 'no reason given'}`)
    for (const target of targets) {
      const current = await readlink(join(rootOf(target), 'current'))
      if (current !== `releases/${version}`) throw new Error(`${target.id} ends on ${current} after the rollout of ${version}`)
    }
    return result
  }

  // Seed v1 (not measured).
  const seed = await roll('v1', newExecutor())
  console.error(`[bench:ssh] seeded v1 on ${HOSTS} hosts in ${Math.round(seed.durationMs)} ms`)

  // The measured rollout: only sshd's log lines written during it are counted.
  const logFrom = sshd.log().length
  const executor = newExecutor()
  const result = await roll('v2', executor)
  // sshd's stderr is a pipe: give its last lines a moment to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const logDuring = sshd.log().slice(logFrom)

  const floor = await commandFloor(newExecutor(), targets[0] as Target)
  const openssh = await opensshBaseline(sshd, knownHosts, targets[0] as Target)

  const stats = new Map<string, HostStats>(executor.stats().map((s) => [s.target, s]))
  const reports = new Map(result.targets.map((r) => [r.target.id, r]))
  const lines: HostLine[] = targets.map((target) => {
    const s = stats.get(target.id)
    if (!s) throw new Error(`the executor has no stats for ${target.id}`)
    return {
      host: target.id,
      address: target.address,
      connect_ms: round(s.connectMs),
      upload_ms: round(s.uploadMs),
      commands_ms: round(s.commandMs),
      overhead_ms: round(Math.max(0, s.totalMs - s.connectMs - s.commandMs - s.uploadMs)),
      connections: connectionsTo(logDuring, target.address, sshd),
      executor_connections: s.connections,
      commands: s.commands,
      upload_bytes: s.uploadBytes,
      total_ms: round(s.totalMs),
      stats_overhead_ms: round(s.overheadMs),
      deploy_ms: round(reports.get(target.id)?.timings.deploy ?? Number.NaN),
    }
  })
  for (const line of lines) console.log(JSON.stringify(line))

  const overheadOk = lines.every((l) => l.overhead_ms < OVERHEAD_TARGET_MS)
  const connectionsOk = lines.every((l) => l.connections === 1)
  const spread = (key: keyof HostLine) => {
    const values = lines.map((l) => l[key] as number)
    return { median: round(median(values)), max: round(Math.max(...values)) }
  }
  console.log(
    JSON.stringify({
      summary: true,
      hosts: HOSTS,
      batch: BATCH,
      artifact_bytes: artifactBytes.v2,
      status: result.status,
      rollout_wall_ms: round(result.durationMs),
      total_wall_ms: round(performance.now() - wallStarted),
      connect_ms: spread('connect_ms'),
      upload_ms: spread('upload_ms'),
      commands_ms: spread('commands_ms'),
      overhead_ms: spread('overhead_ms'),
      connections: spread('connections'),
      commands_per_host: spread('commands'),
      deploy_ms: spread('deploy_ms'),
      command_floor_ms: floor,
      openssh_connect_and_true_ms: openssh,
      loadavg_1m: { start: round(loadStart), end: round(loadavg()[0] ?? 0) },
      cpus: availableParallelism(),
      sshd_connections_total: connectionsTo(logDuring, undefined, sshd),
      targets: {
        [`overhead_under_${OVERHEAD_TARGET_MS}ms`]: overheadOk,
        one_connection_per_host: connectionsOk,
        met: overheadOk && connectionsOk,
      },
    }),
  )
  return STRICT && !(overheadOk && connectionsOk) ? 1 : 0
}

/** sshd's LogLevel VERBOSE line for each accepted TCP connection: "Connection from A port P on B port Q". */
function connectionsTo(log: string, address: string | undefined, sshd: Sshd): number {
  return log.split('\n').filter((l) => l.includes('Connection from ') && (address === undefined ? true : l.includes(` on ${address} port ${sshd.port}`))).length
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** A .tar.gz of a tiny app (a few hundred bytes). */
async function buildArtifact(dir: string, version: string): Promise<string> {
  const src = join(dir, 'build', version)
  await mkdir(src, { recursive: true })
  await writeFile(join(src, 'VERSION'), `${version}\n`)
  await writeFile(join(src, 'server.js'), `// ${SERVICE} ${version}\nconsole.log(${JSON.stringify(version)})\n`)
  const file = join(dir, 'build', `${SERVICE}-${version}.tar.gz`)
  await run('tar', ['-czf', file, '-C', src, '.'])
  return file
}

/** `/_status` on `target.address:target.port`: 200 with the build `current` holds ({} before the first release). */
async function statusServer(target: Target, root: string): Promise<Server> {
  const server = createServer((_request, response) => {
    readFile(join(root, 'current', '.rolling-release.json'), 'utf8')
      .then(
        (text) => {
          const { version, builtAt } = JSON.parse(text) as { version?: string; builtAt?: string }
          return JSON.stringify({ version, builtAt })
        },
        () => '{}',
      )
      .then((body) => response.writeHead(200, { 'content-type': 'application/json' }).end(body))
      .catch((error: unknown) => response.writeHead(500).end(String(error)))
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(target.port, target.address, () => resolve())
  })
  return server
}

/**
 * For scale: OpenSSH's own client doing what a host's first command costs here (process
 * start, TCP, handshake, auth, `true`), median of 5 to the first target, after the measured
 * rollout. Undefined when there is no `ssh` binary.
 */
async function opensshBaseline(sshd: Sshd, knownHosts: string, target: Target): Promise<number | undefined> {
  const argv = ['-i', sshd.clientKeyFile, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes']
  argv.push('-o', 'BatchMode=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-F', '/dev/null', `${userInfo().username}@${target.address}`, 'true')
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    try {
      await run('ssh', argv, { timeout: 10_000, signal: deadline.signal })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new Error(`ssh ${target.address} true failed: ${String(error)}`)
    }
    samples.push(performance.now() - started)
  }
  return round(median(samples))
}

/**
 * The cost of one command that does nothing (`true`) on an open connection: the SSH exec
 * channel round trips plus sshd starting the session and the shell. Median of 20 on a
 * fresh executor, after the measured rollout (its connection is not counted above).
 */
async function commandFloor(executor: SshExecutor, target: Target): Promise<number> {
  const ctx = { signal: deadline.signal, clock: systemClock, log: { debug() {}, info() {}, warn() {}, error() {} } }
  try {
    await executor.run(target, 'true', ctx)
    const samples: number[] = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      await executor.run(target, 'true', ctx)
      samples.push(performance.now() - started)
    }
    return round(median(samples))
  } finally {
    await executor.close()
  }
}
