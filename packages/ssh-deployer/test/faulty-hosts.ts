// Broken hosts for the Executor contract's fault tests: a port nothing listens on, one that
// accepts TCP and never speaks, and a TCP relay to the real sshd that can cut every
// connection under a running command.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'
import type { ExecutorFaults } from '@org/rolling-core/testing/contracts'
import { executorFor } from './support.js'
import { freePort, type Sshd } from './sshd.js'

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

function closeAll(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy()
  return new Promise((resolve) => server.close(() => resolve()))
}

export function sshFaults(sshd: Sshd): ExecutorFaults {
  const target = { id: 'faulty', address: '127.0.0.1' }
  const withPort = (port: number) =>
    executorFor(sshd, { port, connectTimeoutMs: 1500, hostKeys: { knownHostsText: `[127.0.0.1]:${port} ${sshd.hostKeyPub}` } }, [])
  return {
    async refused() {
      const executor = withPort(await freePort())
      return { executor, target, teardown: () => executor.close() }
    },
    async silent() {
      const sockets = new Set<Socket>()
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
      })
      const executor = withPort(await listen(server))
      return { executor, target, teardown: () => executor.close().then(() => closeAll(server, sockets)) }
    },
    async dropping() {
      const sockets = new Set<Socket>()
      const relay = createServer((client) => {
        const upstream = tcpConnect(sshd.port, '127.0.0.1')
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('error', () => {})
          s.on('close', () => sockets.delete(s))
        }
        client.pipe(upstream).pipe(client)
      })
      const executor = withPort(await listen(relay))
      return {
        executor,
        target,
        drop: async () => {
          for (const s of sockets) s.destroy()
        },
        teardown: () => executor.close().then(() => closeAll(relay, sockets)),
      }
    },
  }
}
