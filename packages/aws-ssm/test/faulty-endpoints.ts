// Broken SSM endpoints for the Executor contract's fault tests, all through the real
// SSMClient: a port nothing listens on, one that accepts TCP and never answers, and the
// fake SSM cut (`sever()`) while a command runs.
import { createServer, type Server, type Socket } from 'node:net'
import type { ExecutorFaults, FaultyHost } from '@org/rolling-core/testing/contracts'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { ssmExecutor } from '../src/index.js'
import { startFleet } from './support.js'
import type { FakeSsm } from './fake-ssm.js'

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

export function ssmFaults(fake: FakeSsm): ExecutorFaults {
  const target = { id: 'faulty', address: '127.0.0.1', labels: { instanceId: 'i-0000000000000fa17' } }
  const host = (client: SSMClient, after?: () => Promise<void>): FaultyHost => {
    const executor = ssmExecutor({ client, pollMs: 20, maxPollMs: 100 })
    return {
      executor,
      target,
      teardown: async () => {
        await executor.close?.()
        client.destroy()
        await after?.()
      },
    }
  }
  return {
    async refused() {
      const closed = createServer()
      const port = await listen(closed)
      await new Promise((resolve) => closed.close(resolve))
      return host(fake.client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }))
    },
    async silent() {
      const sockets = new Set<Socket>()
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
      })
      const port = await listen(server)
      return host(fake.client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }), async () => {
        for (const s of sockets) s.destroy()
        await new Promise((resolve) => server.close(resolve))
      })
    },
    async dropping() {
      // A fake of its own: severing it must not break the suite's other tests.
      const fleet = await startFleet(1)
      const client = fleet.fake.client({ maxAttempts: 1 })
      const faulty = host(client, () => fleet.stop())
      return { ...faulty, target: fleet.targets[0]!, drop: async () => fleet.fake.sever() }
    },
  }
}
