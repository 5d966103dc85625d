// A gate over one HTTP GET: a metrics service, a smoke-test endpoint. The status and,
// optionally, fields of the JSON body decide. An endpoint that cannot be reached says
// `wait` (the gate's deadline then fails it, naming what it saw), never throws.
import type { Dispatcher } from 'undici'
import { lazyHttp } from '../lazy-http.js'
import type { Gate, GateContext, GateVerdict } from './gate.js'
import { ValidationError, abortReason, errorMessage } from '../errors.js'
import { formatMs } from '../clock.js'

export type JsonScalar = string | number | boolean | null

export interface HttpGateExpect {
  /** Statuses that pass (anything else fails). @default 200 */
  status?: number | readonly number[]
  /**
   * Fields of the JSON body that must hold these values, by dotted path.
   * @example { 'smoke.result': 'pass', errors: 0 }
   */
  json?: Readonly<Record<string, JsonScalar>>
}

export interface HttpGateOptions {
  /** `http://` or `https://` URL to GET. */
  url: string
  expect?: HttpGateExpect
  /** Names the gate in reports. @default `http ${url}` */
  name?: string
  headers?: Record<string, string>
  /** Time allowed for one answer, body included. @default 5000 */
  requestTimeout?: number
  /** Keep watching this long before the gate passes. @default the rollout's `bake` */
  bake?: number
  /** Time between checks. @default 5000 */
  interval?: number
  /** Fail when still undecided (unreachable) after this long. @default the rollout's `timeouts.gate` */
  timeout?: number
  /** undici dispatcher to send through. @default a keep-alive Agent owned by the gate */
  dispatcher?: Dispatcher
}

export interface HttpGate extends Gate {
  close(): Promise<void>
}

const MAX_BODY = 256 * 1024

export function httpGate(options: HttpGateOptions): HttpGate {
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new ValidationError('httpGate.url', `expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError('httpGate.url', `expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`)
  }
  const statuses = [options.expect?.status ?? 200].flat()
  for (const status of statuses) {
    if (!Number.isInteger(status) || status < 100 || status > 599)
      throw new ValidationError('httpGate.expect.status', `expected HTTP statuses, got ${JSON.stringify(options.expect?.status)}`)
  }
  const fields = Object.entries(options.expect?.json ?? {})
  for (const [path, value] of fields) {
    if (path === '' || !(value === null || ['string', 'number', 'boolean'].includes(typeof value))) {
      throw new ValidationError(`httpGate.expect.json.${path}`, `expected a string, number, boolean or null, got ${JSON.stringify(value)}`)
    }
  }
  const requestTimeout = options.requestTimeout ?? 5000
  if (!Number.isFinite(requestTimeout) || requestTimeout <= 0)
    throw new ValidationError('httpGate.requestTimeout', `expected a finite number > 0, got ${requestTimeout}`)
  const http = lazyHttp({ dispatcher: options.dispatcher, connectTimeout: requestTimeout })
  const shown = `${url.origin}${url.pathname}`

  async function check(ctx: GateContext): Promise<GateVerdict> {
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    const { request, dispatcher } = await http.load()
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${formatMs(requestTimeout)}`)), requestTimeout)
    const onAbort = () => controller.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json', ...options.headers },
        dispatcher,
        signal: controller.signal,
        headersTimeout: requestTimeout,
        bodyTimeout: requestTimeout,
      })
      let text = ''
      try {
        for await (const chunk of response.body) {
          text += String(chunk)
          if (text.length > MAX_BODY) break
        }
      } finally {
        if (!response.body.destroyed) response.body.destroy()
      }
      if (!statuses.includes(response.statusCode)) {
        return { state: 'fail', detail: `GET ${shown} answered ${response.statusCode} (expected ${statuses.join(' or ')})${snippet(text)}` }
      }
      if (fields.length === 0) return { state: 'pass', detail: `GET ${shown} answered ${response.statusCode}` }
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        return { state: 'fail', detail: `GET ${shown} answered ${response.statusCode} with a body that is not JSON${snippet(text)}` }
      }
      for (const [path, expected] of fields) {
        const actual = at(body, path)
        if (actual !== expected) {
          return {
            state: 'fail',
            detail: `GET ${shown}: ${path} is ${actual === undefined ? 'missing' : JSON.stringify(actual)} (expected ${JSON.stringify(expected)})`,
          }
        }
      }
      return { state: 'pass', detail: `GET ${shown} answered ${response.statusCode}, ${fields.map(([p, v]) => `${p}=${JSON.stringify(v)}`).join(', ')}` }
    } catch (error) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      return { state: 'wait', detail: `GET ${shown} could not be read: ${describe(error)}` }
    } finally {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
    }
  }

  return {
    name: options.name ?? `http ${shown}`,
    check,
    ...(options.bake === undefined ? {} : { bake: options.bake }),
    ...(options.interval === undefined ? {} : { interval: options.interval }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    async close() {
      await http.close()
    },
  }
}

function at(value: unknown, path: string): unknown {
  let current = value
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown; cause?: { code?: unknown } })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code
  return typeof code === 'string' && !errorMessage(error).includes(code) ? `${errorMessage(error)} (${code})` : errorMessage(error)
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line === '' ? '' : `: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`
}
