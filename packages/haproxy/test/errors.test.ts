// Errors a user meets first: a wrong socket path, a socket without `level admin`,
// unknown backends and servers, a HAProxy that fails to start. Plus the TCP runtime API.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HaproxyError, freePort, haproxyLoadBalancer, runtimeApi, startHaproxy } from '../src/index.js'
import { ctx, describeHaproxy, type Fleet, rejectionOf, startFleet } from './support.js'

describe('runtime API without HAProxy', () => {
  it('names the socket and ENOENT when the path is wrong', async () => {
    const socket = path.join(os.tmpdir(), 'rolling-no-such-dir', 'admin.sock')
    const error = await rejectionOf(runtimeApi(socket).send('show info'))
    expect(error).toBeInstanceOf(HaproxyError)
    expect((error as HaproxyError).reason).toBe('unreachable')
    expect(error.message).toContain(`[rolling:haproxy] cannot reach the HAProxy runtime API at ${socket}: ENOENT`)
    const lb = haproxyLoadBalancer({ socket, backends: 'web' })
    expect((await rejectionOf(lb.discover(ctx()))).message).toContain('ENOENT')
  })

  it('names the address and ECONNREFUSED for a TCP address nobody listens on', async () => {
    const address = `127.0.0.1:${await freePort()}`
    const error = await rejectionOf(runtimeApi(address).send('show info'))
    expect(error.message).toContain(`cannot reach the HAProxy runtime API at ${address}: ECONNREFUSED`)
  })

  it('validates options naming the option', () => {
    expect(() => haproxyLoadBalancer({ socket: '/x', backends: [] })).toThrow(/`backends`/)
    expect(() => haproxyLoadBalancer({ socket: '/x', backends: 'web', pollMs: -1 })).toThrow(/`pollMs`.*got -1/)
    expect(() => haproxyLoadBalancer({ socket: '', backends: 'web' })).toThrow(/`socket`/)
  })
})

describeHaproxy('haproxyLoadBalancer against HAProxy: errors and sockets', () => {
  let fleet: Fleet
  let tcpAddress: string
  beforeAll(async () => {
    tcpAddress = `127.0.0.1:${await freePort()}`
    fleet = await startFleet({
      servers: 2,
      global: (dir) => [`stats socket ${path.join(dir, 'operator.sock')} mode 600 level operator`, `stats socket ipv4@${tcpAddress} level admin`],
    })
  })
  afterAll(() => fleet?.stop())

  it('discover reads addresses and ports from HAProxy', async () => {
    const targets = await fleet.lb().discover(ctx())
    expect(targets).toEqual(fleet.backends.map((b) => ({ id: `web/${b.name}`, address: b.address, port: b.port, labels: { backend: 'web', server: b.name } })))
  })

  it('speaks to a TCP runtime API as well', async () => {
    const lb = haproxyLoadBalancer({ socket: tcpAddress, backends: 'web', pollMs: 50 })
    expect(await lb.discover(ctx())).toHaveLength(2)
  })

  it('names an unknown backend', async () => {
    const lb = haproxyLoadBalancer({ socket: fleet.haproxy.socket, backends: ['web', 'nosuch'] })
    const error = await rejectionOf(lb.discover(ctx()))
    expect((error as HaproxyError).reason).toBe('unknown-backend')
    expect(error.message).toContain('"nosuch"')
  })

  it('names an unknown server and changes nothing in the batch', async () => {
    const lb = fleet.lb()
    const batch = [
      { id: 'web/s1', address: '127.0.0.2' },
      { id: 'web/nosuch', address: '127.0.0.9' },
    ]
    const error = await rejectionOf(lb.detach(batch, ctx()))
    expect((error as HaproxyError).reason).toBe('unknown-server')
    expect(error.message).toContain('web/nosuch')
    expect((await rejectionOf(lb.attach(batch, ctx()))).message).toContain('web/nosuch')
    expect(await lb.discover(ctx())).toHaveLength(2)
  })

  it('rejects target ids of other backends or without a backend', async () => {
    const error = await rejectionOf(fleet.lb().detach([{ id: 'api/s1', address: '127.0.0.2' }], ctx()))
    expect((error as HaproxyError).reason).toBe('unknown-target')
    expect(error.message).toContain('api/s1')
  })

  it('explains that a socket without level admin cannot drain', async () => {
    const lb = haproxyLoadBalancer({ socket: path.join(fleet.dir, 'operator.sock'), backends: 'web' })
    expect(await lb.discover(ctx())).toHaveLength(2) // reading state works at level operator
    const error = await rejectionOf(lb.detach([{ id: 'web/s1', address: '127.0.0.2' }], ctx()))
    expect((error as HaproxyError).reason).toBe('permission')
    expect(error.message).toContain('Permission denied')
    expect(error.message).toContain('`level admin`')
    expect(await fleet.lb().discover(ctx())).toHaveLength(2)
  })

  it("startHaproxy fails with haproxy's own complaint", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rh-'))
    try {
      const started = startHaproxy({
        dir,
        frontend: fleet.haproxy.frontend, // already bound by the fleet's HAProxy
        backends: [{ name: 'web', servers: [{ name: 's1', address: '127.0.0.2', port: 1 }] }],
      })
      // Should it start after all, stop it: a leaked HAProxy would outlive the test run.
      const error = await rejectionOf(started.then(async (haproxy) => haproxy.stop()))
      expect((error as HaproxyError).reason).toBe('process')
      expect(error.message).toMatch(/exited \(code \d+\) before its runtime API answered/)
      expect(error.message).toMatch(/cannot bind socket|Address already in use/i)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
