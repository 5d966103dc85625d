// A chat webhook on loopback for the tests: records every POST (body, time, path) and
// answers as told: 200, an error status, after a delay, or never.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type Mode = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'slow'; ms: number } | { kind: 'hang' }

export interface Received {
  path: string
  text: string
  body: unknown
  at: number
}

export interface Receiver {
  /** Base URL with a secret-looking path, as a real webhook has. */
  url: string
  /** Bodies of requests answered 2xx, in arrival order. */
  delivered: Received[]
  /** Every request, whatever the answer. */
  requests: Received[]
  /** Requests whose connection closed before an answer (aborted by the client). */
  abandoned: number
  mode: Mode
  close(): Promise<void>
}

export const SECRET = 'T0001/B0002/s3cr3t-token'

export async function startReceiver(mode: Mode = { kind: 'ok' }): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    delivered: [],
    requests: [],
    abandoned: 0,
    mode,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => {
      raw += chunk
    })
    req.on('end', () => {
      const body = JSON.parse(raw) as { text?: string }
      const received: Received = { path: req.url ?? '', text: body.text ?? '', body, at: performance.now() }
      receiver.requests.push(received)
      const current = receiver.mode
      const answer = () => {
        if (current.kind === 'status') res.writeHead(current.status).end('internal error')
        else {
          receiver.delivered.push(received)
          res.writeHead(200).end('ok')
        }
      }
      res.on('close', () => {
        if (!res.writableFinished) receiver.abandoned++
      })
      if (current.kind === 'hang') return
      if (current.kind === 'slow') setTimeout(answer, current.ms)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/${SECRET}`
  return receiver
}
