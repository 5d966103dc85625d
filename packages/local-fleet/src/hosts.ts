// The hosts of a local fleet, without what sits in front of them: one folder per host on
// 127.0.0.2, 127.0.0.3, ... with the first release unpacked and `current` pointing at it, its
// app supervised by this process, each answering `_status` before this resolves.
// startFleet puts a load balancer in front; startAwsFleet puts the fake AWS around them.
import { execFile } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { mkdir, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import type { AdapterContext, Target } from '@org/rolling-core'
import { ValidationError, httpHealthCheck, systemClock } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { Supervisor, type AppProcess } from './supervisor.js'

const run = promisify(execFile)
const silent = { debug() {}, info() {}, warn() {}, error() {} }

export interface FleetHost {
  id: string
  target: Target
  dir: string
  /** Pid of the app running now, if any. */
  readonly pid: number | undefined
  /** Version `current` points to on disk. */
  readonly version: string | undefined
  /** Every app process this host has run, oldest first. */
  readonly processes: readonly AppProcess[]
}

export interface HostsOptions {
  /** Number of hosts: `host-1` on 127.0.0.2, `host-2` on 127.0.0.3, ... */
  size: number
  /** Folder that gets `<id>/` per host (created if missing). */
  dir: string
  /** The first release, a tarball of buildRelease, unpacked into `releases/<version>` of each host. */
  build: string
  version: string
  /** Port every host listens on. @default a port free on all host addresses */
  port?: number
  /** Simulated boot time of the app. @default 0 */
  startupDelayMs?: number
}

export interface Hosts {
  targets: Target[]
  hosts: FleetHost[]
  port: number
  /** Ends every app (SIGTERM, then SIGKILL after the grace period) and stops supervising. */
  stop(): Promise<void>
}

export async function startHosts(options: HostsOptions): Promise<Hosts> {
  const { size, version } = options
  const startupDelayMs = options.startupDelayMs ?? 0
  if (!Number.isInteger(size) || size < 1 || size > 250) throw new ValidationError('size', `expected an integer from 1 to 250, got ${size}`)
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw new ValidationError('port', `expected an integer from 1 to 65535, got ${options.port}`)
  }
  const addresses = Array.from({ length: size }, (_, i) => `127.0.0.${i + 2}`)
  const port = options.port ?? (await sharedFreePort(addresses))
  const targets: Target[] = addresses.map((address, i) => ({ id: `host-${i + 1}`, address, port }))
  const supervisors: Supervisor[] = []
  const health = httpHealthCheck({ timeoutMs: 1000 })
  const stop = async () => {
    await Promise.all(supervisors.map((s) => s.stop()))
    await health.close()
  }
  try {
    const hosts: FleetHost[] = []
    for (const target of targets) {
      const hostDir = join(options.dir, target.id)
      const release = join(hostDir, 'releases', version)
      await mkdir(release, { recursive: true })
      await run('tar', ['-xzf', options.build, '-C', release])
      await symlink(join('releases', version), join(hostDir, 'current'))
      const supervisor = new Supervisor({ dir: hostDir, host: target.address, port, startupDelayMs })
      supervisors.push(supervisor)
      supervisor.start()
      hosts.push({
        id: target.id,
        target,
        dir: hostDir,
        get pid() {
          return supervisor.pid
        },
        get version() {
          return currentVersion(hostDir)
        },
        processes: supervisor.history,
      })
    }
    const ctx: AdapterContext = { signal: new AbortController().signal, clock: systemClock, log: silent }
    await Promise.all(
      targets.map((target) =>
        waitUntil(
          async () => {
            const h = await health.check(target, ctx)
            return h.ok ? { state: 'done', value: h } : { state: 'retry', observed: h.detail }
          },
          { what: `app on ${target.id} to answer /_status`, timeoutMs: 15_000 + startupDelayMs, minDelayMs: 50, maxDelayMs: 250 },
        ),
      ),
    )
    return { targets, hosts, port, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function currentVersion(hostDir: string): string | undefined {
  try {
    return basename(readlinkSync(join(hostDir, 'current')))
  } catch {
    return undefined
  }
}

/** A port free on every address: the hosts share one port, as servers behind a load balancer do. */
export async function sharedFreePort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    const held: ReturnType<typeof createServer>[] = []
    let ok = true
    for (const address of addresses) {
      const server = createServer()
      const bound = await new Promise<boolean>((done) => {
        server.once('error', () => done(false))
        server.listen(port, address, () => done(true))
      })
      if (!bound) {
        ok = false
        break
      }
      held.push(server)
    }
    await Promise.all(held.map((s) => new Promise((done) => s.close(done))))
    if (ok) return port
  }
  throw new Error(`[rolling:local-fleet] no port free on all of ${addresses.join(', ')} after 50 tries`)
}
