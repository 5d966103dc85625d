// The example's stand-in for real servers: N apps on loopback behind one tinylb, builds in
// an in-memory artifact store, and an in-memory executor whose one command (`app-restart
// <version>`) restarts an app on a new build. Only the load balancer side is the point here.
import type { DeployFunction } from '@org/rolling-core'
import { sh } from '@org/rolling-core'
import { memoryArtifacts, memoryExecutor, splitWords, type MemoryArtifactStore, type MemoryExecutor } from '@org/rolling-core/testing'
import { request } from 'undici'
import { startApp, type App } from './app.js'
import { startTinyLb, type TinyLb } from './tinylb.js'

export interface ExampleFleetOptions {
  /** @default 3 */
  size?: number
  /** @default 'web' */
  service?: string
  /** tinylb's health check interval. @default 100 */
  checkIntervalMs?: number
}

export interface ExampleFleet {
  service: string
  apps: App[]
  tinylb: TinyLb
  artifacts: MemoryArtifactStore
  executor: MemoryExecutor
  /** Restarts each target's app on the resolved build. */
  deploy: DeployFunction
  /** Hosts whose next restart brings up a broken build (`/_status` answers 500). */
  breakOnDeploy: Set<string>
  /** Sends requests through tinylb, `concurrency` at a time, until `stop()`. */
  traffic(concurrency?: number): { stop(): Promise<{ ok: number; failed: number; errors: string[] }> }
  close(): Promise<void>
}

export async function startExampleFleet(options: ExampleFleetOptions = {}): Promise<ExampleFleet> {
  const service = options.service ?? 'web'
  const size = options.size ?? 3
  const apps = await Promise.all(Array.from({ length: size }, (_, i) => startApp({ id: `${service}-${i + 1}`, version: 'v1' })))
  const tinylb = await startTinyLb({
    checkIntervalMs: options.checkIntervalMs ?? 100,
    checkTimeoutMs: 500,
    backends: apps.map((app) => ({ id: app.id, address: app.address, port: app.port })),
  })
  const artifacts = memoryArtifacts()
  artifacts.publish(service, 'v1', `${service} v1\n`)
  const breakOnDeploy = new Set<string>()

  const executor = memoryExecutor({
    name: 'example',
    handler: async (target, { command }) => {
      const [program, version] = splitWords(command)
      const app = apps.find((a) => a.id === target.id)
      if (!app) return { exitCode: 255, stderr: `no host ${target.id}\n` }
      if (program !== 'app-restart' || version === undefined) return { exitCode: 127, stderr: `unknown command: ${command}\n` }
      await app.restart(version, { healthy: !breakOnDeploy.has(target.id) })
      return { stdout: `restarted on ${version}\n` }
    },
  })

  const traffic = (concurrency = 4) => {
    let running = true
    const counts = { ok: 0, failed: 0, errors: [] as string[] }
    const worker = async () => {
      while (running) {
        try {
          const response = await request(tinylb.url, { headersTimeout: 5000, bodyTimeout: 5000 })
          await response.body.text()
          if (response.statusCode === 200) counts.ok++
          else {
            counts.failed++
            counts.errors.push(`status ${response.statusCode}`)
          }
        } catch (error) {
          counts.failed++
          counts.errors.push(error instanceof Error ? error.message : String(error))
        }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    const workers = Array.from({ length: concurrency }, worker)
    return {
      async stop() {
        running = false
        await Promise.all(workers)
        return counts
      },
    }
  }

  return {
    service,
    apps,
    tinylb,
    artifacts,
    executor,
    deploy: ({ artifact }) => [sh`app-restart ${artifact.version}`],
    breakOnDeploy,
    traffic,
    async close() {
      await tinylb.close()
      await Promise.all(apps.map((app) => app.close()))
    },
  }
}
