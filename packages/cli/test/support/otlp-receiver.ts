// A local OTLP/HTTP trace receiver for the tests: node:http on 127.0.0.1 (a free port),
// POST /v1/traces with a JSON body (OTLP's JSON encoding), the spans kept flat with their
// resource. Anything else is answered 404/415 and recorded, so a test sees what went wrong.
// `hang: true` accepts requests and never answers them: a collector that is up but stuck.
import { type IncomingMessage, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  attributes: Record<string, unknown>
  status: { code?: number; message?: string }
  events: { name: string; attributes: Record<string, unknown> }[]
  resource: Record<string, unknown>
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
type OtlpAttribute = { key: string; value: OtlpValue }

function values(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of attributes ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue))
  }
  return out
}

export interface OtlpReceiver {
  endpoint: string
  spans: ReceivedSpan[]
  /** Requests refused, as `METHOD path content-type`. */
  refused: string[]
  close(): Promise<void>
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startOtlpReceiver(options: { hang?: boolean } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const refused: string[] = []
  const server = createServer(async (req, res) => {
    if (options.hang) return // never answered; closed with the server
    const type = req.headers['content-type'] ?? ''
    const text = await body(req)
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !type.startsWith('application/json')) {
      refused.push(`${req.method} ${req.url} ${type}`)
      res.writeHead(req.url === '/v1/traces' ? 415 : 404).end()
      return
    }
    const request = JSON.parse(text) as {
      resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]
    }
    for (const rs of request.resourceSpans ?? []) {
      const resource = values(rs.resource?.attributes)
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const span: ReceivedSpan = {
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            name: String(s.name),
            attributes: values(s.attributes as OtlpAttribute[]),
            status: (s.status as ReceivedSpan['status']) ?? {},
            events: ((s.events as { name: string; attributes?: OtlpAttribute[] }[]) ?? []).map((e) => ({ name: e.name, attributes: values(e.attributes) })),
            resource,
          }
          if (s.parentSpanId) span.parentSpanId = String(s.parentSpanId)
          spans.push(span)
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
