// A data-plane load balancer in a process of its own, driven by a control plane in this
// one: the Node load balancer (node-lb.ts) runs in a child and routes new requests only to
// the backends `membership` admits. Out of this process, as an ALB is out of the deployer's,
// so the event-loop lag of what runs here (fakes, SDK clients, the engine) never shows as
// request latency. Membership is read here every `syncMs` and pushed when it changes.
import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Target } from '@org/rolling-core'
import { ValidationError } from '@org/rolling-core'
import { checkMs } from '@org/rolling-core/adapter'
import type { BackendStats, NodeLoadBalancerOptions } from './node-lb.js'

export interface DataPlaneOptions {
  /** The backends. */
  targets: readonly Target[]
  /**
   * Whether a backend takes new requests, asked here for every backend every `syncMs`; a
   * change reaches the child within about that long (a source that throws counts as false).
   * Requests in flight to a backend that leaves always finish.
   * @example (target) => fakeAws.state('app', instanceIdOf(target), target.port) === 'healthy'
   */
  membership: (target: Target) => boolean
  /**
   * How often membership is read. Timers fire in order, so a change made here reaches the
   * child before any timer due later here (a deregistration delay ending) runs, even when
   * this process stalls.
   * @default 5
   */
  syncMs?: number
  /** @default '127.0.0.1' */
  address?: string
  /** 0 picks a free port. @default 0 */
  port?: number
  /** The load balancer's own check before `attach` (unused when only membership drives it). */
  check?: NodeLoadBalancerOptions['check']
  /** How long start-up and `close()` may take. @default 15_000 */
  timeoutMs?: number
}

export interface DataPlane {
  readonly address: string
  readonly port: number
  /** `http://address:port` */
  readonly url: string
  readonly pid: number
  /** Each backend as the child sees it now: member or not, requests in flight and served. */
  stats(): Promise<BackendStats[]>
  close(): Promise<void>
}

// Source (`.ts`, run through tsx with the source condition) or the built `.js` next to this module.
const CHILD = ((): string => {
  const ts = fileURLToPath(new URL('./data-plane-child.ts', import.meta.url))
  return existsSync(ts) ? ts : fileURLToPath(new URL('./data-plane-child.js', import.meta.url))
})()

export async function startDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const { targets, membership } = options
  const syncMs = options.syncMs ?? 5
  const timeoutMs = options.timeoutMs ?? 15_000
  if (!Array.isArray(targets) || targets.length === 0) throw new ValidationError('targets', 'expected at least one backend')
  if (typeof membership !== 'function') throw new ValidationError('membership', `expected a function, got ${typeof membership}`)
  // The core's check: it also refuses a duration above Node's timer ceiling.
  checkMs('syncMs', syncMs, { min: 1 })
  checkMs('timeoutMs', timeoutMs, { min: 1 })

  const admitted = (): string[] =>
    targets
      .filter((t) => {
        try {
          return membership(t) === true
        } catch {
          return false
        }
      })
      .map((t) => t.id)
  let members = admitted()
  const { NODE_OPTIONS: _, ...env } = process.env
  const child: ChildProcess = fork(CHILD, [JSON.stringify({ targets, members, address: options.address, port: options.port, check: options.check })], {
    execArgv: CHILD.endsWith('.ts') ? ['--conditions=@org/source', '--import', 'tsx'] : [],
    cwd: dirname(CHILD),
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  const pending = new Map<number, { resolve: (stats: BackendStats[]) => void; reject: (error: Error) => void }>()
  let nextId = 0
  child.on('message', (message: { type: string; id?: number; stats?: BackendStats[] }) => {
    if (message.type === 'stats') pending.get(message.id ?? -1)?.resolve(message.stats ?? [])
  })
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`[rolling:data-plane] the load balancer process exited (${signal ?? code})`))
  })

  let ready: { address: string; port: number }
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`[rolling:data-plane] the load balancer process did not start within ${timeoutMs} ms`)), timeoutMs)
      child.once('exit', (code) => reject(new Error(`[rolling:data-plane] the load balancer process exited (${code}) before it listened`)))
      child.on('message', (message: { type: string; address?: string; port?: number }) => {
        if (message.type !== 'ready') return
        clearTimeout(timer)
        resolve({ address: message.address ?? '', port: message.port ?? 0 })
      })
    })
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }

  const sync = setInterval(() => {
    const now = admitted()
    if (now.length === members.length && now.every((id, i) => id === members[i])) return
    members = now
    if (!exited) child.send({ type: 'members', ids: now })
  }, syncMs)

  return {
    address: ready.address,
    port: ready.port,
    url: `http://${ready.address}:${ready.port}`,
    pid: child.pid as number,
    stats() {
      if (exited) return Promise.reject(new Error('[rolling:data-plane] the load balancer process has exited'))
      const id = nextId++
      return new Promise<BackendStats[]>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        child.send({ type: 'stats', id })
      }).finally(() => pending.delete(id))
    },
    async close() {
      clearInterval(sync)
      if (exited) return
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exit
      clearTimeout(timer)
    },
  }
}
