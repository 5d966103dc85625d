// The local fleet: N app processes on 127.0.0.2, 127.0.0.3, ... (one folder of releases
// each, supervised by this process), a load balancer in front (HAProxy when installed, the
// embedded Node one otherwise), a file artifact store, a local executor and the recipe.
import { mkdir, mkdtemp, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import type { AdapterContext, Artifact, DeployRecipe, Executor, LoadBalancer, Target } from '@org/rolling-core'
import { ValidationError, fileArtifacts, httpHealthCheck, localExecutor, systemClock, type FileArtifactStore } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { buildRelease, type ReleaseOptions } from './build.js'
import type { HaproxyProcess } from '@org/rolling-haproxy'
import { haproxyAvailable } from './haproxy.js'
import { startHosts, type FleetHost, type Hosts } from './hosts.js'
import { startNodeLoadBalancer } from './node-lb.js'
import { fleetRecipe, type FleetRecipeOptions } from './recipe.js'

export { sharedFreePort, type FleetHost } from './hosts.js'

export interface FleetOptions {
  /** Number of hosts. */
  size: number
  /** Folder of the fleet (hosts, artifacts, builds). @default a new temp folder */
  dir?: string
  /** Port every host listens on. @default a port free on all host addresses */
  port?: number
  /** Build the hosts start on; published to the artifact store first. @default 'v1' */
  version?: string
  /** Simulated boot time of the app. @default 0 */
  startupDelayMs?: number
  /** Load balancer: HAProxy when found (`auto`), or forced. @default 'auto' */
  lb?: 'auto' | 'haproxy' | 'node'
  /** Active health check of the load balancer. @default { interMs: 200, rise: 2, fall: 2 } */
  check?: { interMs?: number; rise?: number; fall?: number }
  /** HAProxy `retries`; 0 makes a restart without drain show up as failed requests. @default 0 */
  retries?: number
  /** Options of the deploy recipe. */
  recipe?: FleetRecipeOptions
}

export interface Fleet {
  dir: string
  /** The service name the artifacts are published under. */
  service: 'app'
  targets: Target[]
  hosts: FleetHost[]
  lb: LoadBalancer
  lbKind: 'haproxy' | 'node'
  /** Where traffic goes. */
  frontend: { address: string; port: number }
  /** `http://frontend/` */
  url: string
  artifacts: FileArtifactStore
  /** Builds `version` and publishes it (it becomes the latest). */
  publish(version: string, options?: ReleaseOptions): Promise<Artifact>
  /** Runs commands in each host's folder. */
  executor: Executor
  recipe: DeployRecipe
  /** Ends every process and the load balancer; removes `dir` unless `keep`. */
  stop(options?: { keep?: boolean }): Promise<void>
}

const SERVICE = 'app'
const silent = { debug() {}, info() {}, warn() {}, error() {} }

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { size } = options
  const version = options.version ?? 'v1'
  const kind = options.lb ?? 'auto'
  const check = { interMs: 200, rise: 2, fall: 2, ...options.check }
  if (!Number.isInteger(size) || size < 1 || size > 250) throw new ValidationError('size', `expected an integer from 1 to 250, got ${size}`)
  if (!['auto', 'haproxy', 'node'].includes(kind)) throw new ValidationError('lb', `expected 'auto', 'haproxy' or 'node', got ${JSON.stringify(kind)}`)
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw new ValidationError('port', `expected an integer from 1 to 65535, got ${options.port}`)
  }
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'rolling-fleet-'))))
  await mkdir(join(dir, 'hosts'), { recursive: true })
  const ctx: AdapterContext = { signal: new AbortController().signal, clock: systemClock, log: silent }
  const artifacts = fileArtifacts({ root: join(dir, 'artifacts') })
  const publish = async (v: string, opts: ReleaseOptions = {}) => {
    const release = await buildRelease({ dir: join(dir, 'builds'), version: v, ...opts })
    return artifacts.publish(SERVICE, release.file, { version: v, builtAt: release.builtAt })
  }

  let hosts: Hosts | undefined
  let haproxy: HaproxyProcess | undefined
  let closeLb: (() => Promise<void>) | undefined
  const health = httpHealthCheck({ timeoutMs: 1000 })
  const stop = async (opts: { keep?: boolean } = {}) => {
    await closeLb?.().catch(() => {})
    await haproxy?.stop().catch(() => {})
    await hosts?.stop()
    await health.close()
    if (!opts.keep) await rm(dir, { recursive: true, force: true })
  }

  try {
    const artifact = await publish(version)
    const location = await artifacts.locate(artifact, { id: 'controller', address: '127.0.0.1' }, ctx)
    if (location.kind !== 'path') throw new Error('the file store gave no path')
    hosts = await startHosts({
      size,
      dir: join(dir, 'hosts'),
      build: location.path,
      version,
      ...(options.port === undefined ? {} : { port: options.port }),
      startupDelayMs: options.startupDelayMs ?? 0,
    })
    const { targets, port } = hosts

    let lb: LoadBalancer
    let lbKind: Fleet['lbKind']
    let frontend: Fleet['frontend']
    const found = kind === 'node' ? undefined : await haproxyAvailable()
    if (found && 'module' in found) {
      const { module } = found
      const address = '127.0.0.1'
      haproxy = await module.startHaproxy({
        dir: join(dir, 'haproxy'),
        frontend: { address, port: await module.freePort(address) },
        backends: [{ name: SERVICE, servers: targets.map((t) => ({ name: t.id, address: t.address, port })) }],
        check: { path: '/_status', interMs: check.interMs, rise: check.rise, fall: check.fall },
        retries: options.retries ?? 0,
      })
      lb = module.haproxyLoadBalancer({ socket: haproxy.socket, backends: [SERVICE] })
      lbKind = 'haproxy'
      frontend = haproxy.frontend
    } else {
      if (kind === 'haproxy')
        throw new Error(`[rolling:local-fleet] lb 'haproxy' asked for, but ${found && 'error' in found ? found.error : 'it is unavailable'}`)
      const node = await startNodeLoadBalancer({ targets, check: { interMs: check.interMs, rise: check.rise } })
      closeLb = () => node.close()
      lb = node
      lbKind = 'node'
      frontend = { address: node.address, port: node.port }
    }
    const url = `http://${frontend.address}:${frontend.port}/`
    await waitUntil(
      async () => {
        const h = await health.check({ id: 'frontend', address: frontend.address, port: frontend.port }, ctx)
        return h.ok ? { state: 'done', value: h } : { state: 'retry', observed: h.detail }
      },
      { what: `the ${lbKind} load balancer to answer on ${url}`, timeoutMs: 15_000, minDelayMs: 50, maxDelayMs: 250 },
    )

    // HAProxy names targets `<backend>/<server>`: find the host folder by the server name.
    const hostDirOf = (t: Target) => join(dir, 'hosts', basename(t.id))
    return {
      dir,
      service: SERVICE,
      targets,
      hosts: hosts.hosts,
      lb,
      lbKind,
      frontend,
      url,
      artifacts,
      publish,
      executor: localExecutor({ cwd: hostDirOf }),
      recipe: fleetRecipe(options.recipe),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Reads where `current` points in a host folder: `releases/<version>`. */
export async function readCurrent(hostDir: string): Promise<string> {
  return readlink(join(hostDir, 'current'))
}
