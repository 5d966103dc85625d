// httpGate against a real HTTP server on loopback, through the Gate contract suite.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { httpGate, ValidationError, type GateState } from '@org/rolling-core'
import { testGate } from '@org/rolling-core/testing/contracts'

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

testGate({
  name: 'httpGate (status and JSON field)',
  async setup() {
    let state: GateState = 'pass'
    // 'wait': the server resets every connection, as a metrics service that is restarting.
    const server = createServer((req, res) => {
      if (state === 'wait') {
        req.socket.destroy()
        return
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ smoke: { result: state === 'pass' ? 'pass' : 'fail' }, errors: 0 }))
    })
    const base = await listen(server)
    const gate = httpGate({ url: `${base}/smoke`, expect: { json: { 'smoke.result': 'pass', errors: 0 } }, requestTimeout: 1000 })
    return {
      gate,
      async set(s: GateState) {
        state = s
      },
      async teardown() {
        await gate.close()
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  },
})

describe('httpGate', () => {
  it('fails on an unexpected status, naming it, and says wait on a refused connection', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 503
      res.end('maintenance')
    })
    const base = await listen(server)
    const ctx = { signal: new AbortController().signal } as never
    const gate = httpGate({ url: `${base}/metrics` })
    expect(await gate.check(ctx)).toEqual({ state: 'fail', detail: `GET ${base}/metrics answered 503 (expected 200): maintenance` })
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    const verdict = await gate.check(ctx)
    expect(verdict.state).toBe('wait')
    expect(verdict.detail).toMatch(/ECONNREFUSED/)
    await gate.close()
  })

  it('refuses bad options naming them', () => {
    expect(() => httpGate({ url: 'ftp://x' })).toThrow(ValidationError)
    expect(() => httpGate({ url: 'http://127.0.0.1/', expect: { status: 42 } })).toThrow(/httpGate\.expect\.status/)
    expect(() => httpGate({ url: 'http://127.0.0.1/', expect: { json: { a: {} as never } } })).toThrow(/httpGate\.expect\.json\.a/)
  })
})
