// A coherent fake fleet for engine tests and the benchmark: one host model shared by
// the in-memory load balancer, executor, health check and a deploy recipe, with knobs
// to make single hosts misbehave. Every per-host operation is a Map lookup, so it scales to 100k hosts.
import type { Artifact, Clock, ExecResult, Health, Target } from '../types.js'
import type { DeployRecipe, RunningBuild } from '../recipe.js'
import { sh } from '../shell.js'
import { memoryLoadBalancer, type MemoryLoadBalancer } from './memory-lb.js'
import { memoryArtifacts, type MemoryArtifactStore, type PublishOptions } from './memory-artifacts.js'
import { memoryExecutor, type MemoryExecutor, type MemoryExecContext } from './memory-exec.js'
import { memoryHealthCheck, type MemoryHealthCheck } from './memory-health.js'
import { splitWords } from './split-words.js'

export interface FakeHost {
  version: string
  builtAt?: string
  /** False: `_status` answers 503 even while running. */
  healthy: boolean
  running: boolean
  /** The build before the last install, for `rollback`. */
  previous?: RunningBuild
  /** Runtime faults of the build it runs now (set by the fault knobs, cleared by an install). */
  fault?: HostFault
}

/** How a host's `_status` misbehaves after an install, on the fleet's clock. */
export interface HostFault {
  /** Answers 200 and 500 in turn, each for this long, from the install on. */
  flapMs?: number
  /** Answers 200 for this long after the install, then 500 for good. */
  failAfterMs?: number
  /** Clock time of the install the fault counts from. */
  since?: number
}

export interface MemoryFleetOptions {
  size: number
  /** The build every host runs at the start (published to `artifacts`). @default 'v1' */
  version?: string
  /** @default 'app' */
  service?: string
  /** @default the clock of each call's context */
  clock?: Clock
  /** @default 0 */
  drainMs?: number
  /** @default 0 */
  attachMs?: number
  /** How long an install takes on a host. @default 0 */
  deployMs?: number
  /** Health checks with no answer within this long are `ok: false`. @default 5000 */
  healthTimeoutMs?: number
  /** @default 'host-' */
  idPrefix?: string
  /** Labels of host `n` (1-based), e.g. its zone for zone-aware batches. */
  labels?: (n: number) => Record<string, string>
}

export interface FleetAdapters {
  service: string
  loadBalancer: MemoryLoadBalancer
  artifacts: MemoryArtifactStore
  executor: MemoryExecutor
  healthCheck: MemoryHealthCheck
  deploy: DeployRecipe
}

export interface MemoryFleet {
  service: string
  /** The hosts at creation, in order (`host-1` ... `host-N`). */
  targets: Target[]
  lb: MemoryLoadBalancer
  health: MemoryHealthCheck
  executor: MemoryExecutor
  artifacts: MemoryArtifactStore
  recipe: DeployRecipe
  hosts: Map<string, FakeHost>
  /** The fleet's adapters as rollout options: `rollout({ ...fleet.adapters, batch: 2 })`. */
  adapters: FleetAdapters
  /** Publishes a build of the fleet's service; it becomes `latest`. */
  publish(version: string, options?: PublishOptions): Artifact
  /** Adds a host running `version` and registers it in service, as autoscaling would. */
  addHost(version?: string): Target
  /** The host reports unhealthy after its next install (a bad build). */
  breakAfterDeploy(id: string): void
  /** The host is unhealthy now, so the pre-check skips it; an install would heal it. */
  unhealthyBefore(id: string): void
  /** Installs on the host "succeed" but it keeps running its old build. */
  ignoreDeploy(id: string): void
  /** After its next install, `_status` flips between 200 and 500 every `periodMs`. */
  flapAfterDeploy(id: string, periodMs: number): void
  /** After its next install, `_status` answers 200 for `ms`, then 500 for good. */
  dieAfterDeploy(id: string, ms: number): void
  /** `_status` names no build (no version, no build time), as many apps' health pages do. */
  hideBuild(id: string): void
  /** How many hosts run each version. O(N): for assertions, not the hot path. */
  versions(): Map<string, number>
}

/** The single command the fake hosts understand: `rolling-app <verb> [args]`. */
const APP = 'rolling-app'

export function memoryFleet(options: MemoryFleetOptions): MemoryFleet {
  const service = options.service ?? 'app'
  const prefix = options.idPrefix ?? 'host-'
  const deployMs = options.deployMs ?? 0
  const hosts = new Map<string, FakeHost>()
  const broken = new Set<string>()
  const ignoring = new Set<string>()
  const faults = new Map<string, HostFault>()
  const hidden = new Set<string>()
  const artifacts = memoryArtifacts(options.clock ? { clock: options.clock } : {})
  const published = new Map<string, Artifact>()

  const publish = (version: string, publishOptions?: PublishOptions) => {
    const artifact = artifacts.publish(service, version, `${service} ${version}\n`, publishOptions)
    published.set(version, artifact)
    return artifact
  }
  const initial = publish(options.version ?? 'v1')

  let count = 0
  const newHost = (build: RunningBuild): Target => {
    const n = ++count
    // Never dialled; still on loopback, so a real health check plugged in by mistake stays on this machine.
    const target: Target = { id: `${prefix}${n}`, address: `127.${100 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`, port: 8080 }
    if (options.labels) target.labels = options.labels(n)
    hosts.set(target.id, { version: build.version, ...(build.builtAt === undefined ? {} : { builtAt: build.builtAt }), healthy: true, running: true })
    return target
  }
  const targets: Target[] = []
  for (let i = 0; i < options.size; i++) targets.push(newHost(initial))

  const lb = memoryLoadBalancer({
    targets,
    ...(options.clock ? { clock: options.clock } : {}),
    drainMs: options.drainMs ?? 0,
    attachMs: options.attachMs ?? 0,
  })

  const health = memoryHealthCheck({
    ...(options.clock ? { clock: options.clock } : {}),
    timeoutMs: options.healthTimeoutMs ?? 5000,
    respond: (target, ctx): Health => {
      const host = hosts.get(target.id)
      if (!host) throw new Error(`connect ECONNREFUSED ${target.address}:${target.port ?? 80}`)
      const ok = host.healthy && host.running && !faulty(host.fault, ctx.clock.now())
      // Built field by field, not from spreads: one object per check on a 100k-host fleet.
      const health: Health = { ok, status: ok ? 200 : 503 }
      if (!hidden.has(target.id)) {
        health.version = host.version
        if (host.builtAt !== undefined) health.builtAt = host.builtAt
      }
      if (!ok) health.detail = host.running ? 'status 503 (unhealthy)' : 'status 503 (stopped)'
      return health
    },
  })

  const handle = (target: Target, words: string[], ctx: MemoryExecContext): Partial<ExecResult> | Promise<Partial<ExecResult>> => {
    const host = hosts.get(target.id)
    if (!host) return { exitCode: 255, stderr: `ssh: connect to host ${target.address}: Connection refused\n` }
    const [program, verb, ...args] = words
    if (program !== APP) return { exitCode: 127, stderr: `sh: ${program ?? ''}: command not found\n` }
    switch (verb) {
      case 'install': {
        const [version, builtAt] = args
        if (version === undefined || !published.has(version)) return { exitCode: 1, stderr: `no such build: ${version ?? ''}\n` }
        const install = (): Partial<ExecResult> => {
          host.running = true
          if (ignoring.has(target.id)) return { stdout: `installed ${version}\n` }
          host.previous = { version: host.version, ...(host.builtAt === undefined ? {} : { builtAt: host.builtAt }) }
          host.version = version
          host.builtAt = builtAt || undefined
          host.healthy = !broken.has(target.id)
          const fault = faults.get(target.id)
          if (fault) host.fault = { ...fault, since: ctx.clock.now() }
          else delete host.fault
          return { stdout: `installed ${version}\n` }
        }
        // Synchronous when instant: no timer or abort listener per host on a 100k fleet.
        return deployMs > 0 ? ctx.clock.sleep(deployMs, ctx.signal).then(install) : install()
      }
      case 'stop':
        host.running = false
        return { stdout: 'stopped\n' }
      case 'start':
        host.running = true
        return { stdout: 'started\n' }
      case 'rollback': {
        const previous = host.previous
        if (!previous) return { exitCode: 1, stderr: 'no previous build to roll back to\n' }
        host.version = previous.version
        host.builtAt = previous.builtAt
        delete host.previous
        // The old build worked before the deploy; a bad build does not follow it back.
        host.healthy = true
        host.running = true
        return { stdout: `rolled back to ${previous.version}\n` }
      }
      case 'version':
        return { stdout: `${JSON.stringify({ version: host.version, builtAt: host.builtAt })}\n` }
      default:
        return { exitCode: 2, stderr: `${APP}: unknown command ${verb ?? ''}\n` }
    }
  }

  const executor = memoryExecutor({
    ...(options.clock ? { clock: options.clock } : {}),
    handler: (target, request, ctx) => handle(target, splitWords(request.command), ctx),
  })

  const recipe: DeployRecipe = {
    async deploy({ artifact, location, exec }) {
      const from = location.kind === 'url' ? location.url : location.path
      await exec(sh`${APP} install ${artifact.version} ${artifact.builtAt} ${from}`)
    },
    async stop({ exec }) {
      await exec(`${APP} stop`)
    },
    async rollback({ exec }) {
      await exec(`${APP} rollback`)
    },
    async version({ exec }) {
      const { stdout } = await exec(`${APP} version`)
      const parsed = JSON.parse(stdout) as { version: string; builtAt?: string }
      return { version: parsed.version, ...(parsed.builtAt ? { builtAt: parsed.builtAt } : {}) }
    },
  }

  const knob = (id: string, what: string): FakeHost => {
    const host = hosts.get(id)
    if (!host) throw new Error(`[rolling:memory-fleet] ${what}: no host ${id}`)
    return host
  }

  return {
    service,
    targets,
    lb,
    health,
    executor,
    artifacts,
    recipe,
    hosts,
    adapters: { service, loadBalancer: lb, artifacts, executor, healthCheck: health, deploy: recipe },
    publish,
    addHost(version) {
      const stored = version === undefined ? initial : published.get(version)
      if (!stored) throw new Error(`[rolling:memory-fleet] addHost: build ${version} of ${service} was never published`)
      const target = newHost({ version: stored.version, builtAt: stored.builtAt })
      lb.add(target)
      return target
    },
    breakAfterDeploy(id) {
      knob(id, 'breakAfterDeploy')
      broken.add(id)
    },
    unhealthyBefore(id) {
      knob(id, 'unhealthyBefore').healthy = false
    },
    ignoreDeploy(id) {
      knob(id, 'ignoreDeploy')
      ignoring.add(id)
    },
    flapAfterDeploy(id, periodMs) {
      knob(id, 'flapAfterDeploy')
      faults.set(id, { flapMs: periodMs })
    },
    dieAfterDeploy(id, ms) {
      knob(id, 'dieAfterDeploy')
      faults.set(id, { failAfterMs: ms })
    },
    hideBuild(id) {
      knob(id, 'hideBuild')
      hidden.add(id)
    },
    versions() {
      const counts = new Map<string, number>()
      for (const host of hosts.values()) counts.set(host.version, (counts.get(host.version) ?? 0) + 1)
      return counts
    },
  }
}

/** True while a fault makes `_status` fail at clock time `now`. */
function faulty(fault: HostFault | undefined, now: number): boolean {
  if (!fault || fault.since === undefined) return false
  const age = now - fault.since
  if (fault.failAfterMs !== undefined && age >= fault.failAfterMs) return true
  return fault.flapMs !== undefined && Math.floor(age / fault.flapMs) % 2 === 1
}
