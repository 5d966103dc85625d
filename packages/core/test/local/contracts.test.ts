// Core's real adapters through the shared contract suites: the local executor on this
// machine, the file store on a temp folder, the HTTP check against node:http servers.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testArtifactStore, testExecutor, testHealthCheck } from '../../src/testing/contracts/index.js'
import { localExecutor } from '../../src/local/executor.js'
import { fileArtifacts } from '../../src/local/file-artifacts.js'
import { httpHealthCheck } from '../../src/health/http.js'
import { localFaults } from './faulty-shells.js'

testExecutor({
  name: 'local',
  setup: async () => ({ executor: localExecutor(), target: { id: 'localhost', address: '127.0.0.1' }, faults: localFaults() }),
})

testArtifactStore({
  name: 'file',
  setup: async () => {
    const base = await mkdtemp(join(tmpdir(), 'rolling-contract-'))
    const store = fileArtifacts({ root: join(base, 'store') })
    let n = 0
    return {
      store,
      service: 'contract-app',
      async publish(version, bytes, builtAt) {
        const dir = join(base, `src-${++n}`)
        await mkdir(dir)
        await writeFile(join(dir, 'app.tgz'), bytes)
        return store.publish('contract-app', join(dir, 'app.tgz'), { version, ...(builtAt ? { builtAt } : {}) })
      },
      async corrupt(artifact) {
        await writeFile(join(store.root, artifact.service, artifact.version, 'app.tgz'), 'not the build')
      },
      teardown: () => rm(base, { recursive: true, force: true }),
    }
  },
})

testHealthCheck({
  name: 'http',
  setup: async () => {
    const listen = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return (server.address() as AddressInfo).port
    }
    const healthy = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ version: 'v7', builtAt: '2025-01-01T00:00:00Z' }))
    })
    const failing = createServer((_req, res) => {
      res.writeHead(500)
      res.end('boom')
    })
    const hanging = createServer(() => {})
    const closed = createServer()
    const servers = [healthy, failing, hanging]
    const [healthyPort, failingPort, hangingPort, refusedPort] = await Promise.all([listen(healthy), listen(failing), listen(hanging), listen(closed)])
    await new Promise((resolve) => closed.close(resolve))
    const timeoutMs = 500
    const check = httpHealthCheck({ timeoutMs })
    return {
      check,
      healthy: { id: 'healthy', address: '127.0.0.1', port: healthyPort },
      failing: { id: 'failing', address: '127.0.0.1', port: failingPort },
      hanging: { id: 'hanging', address: '127.0.0.1', port: hangingPort },
      refused: { id: 'refused', address: '127.0.0.1', port: refusedPort },
      expectedVersion: 'v7',
      timeoutMs,
      async teardown() {
        await check.close()
        for (const server of servers) {
          server.closeAllConnections()
          await new Promise((resolve) => server.close(resolve))
        }
      },
    }
  },
})
