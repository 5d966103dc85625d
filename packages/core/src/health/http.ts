// The default health check: GET http://<address>:<port>/_status through undici, reading the
// build the target reports from a JSON body. An unhealthy or silent target is `ok: false`,
// never an exception; only an abort of the caller's signal rejects.
import { performance } from 'node:perf_hooks'
import type { Dispatcher } from 'undici'
import { lazyHttp } from '../lazy-http.js'
import type { AdapterContext, Health, HealthCheck, Target } from '../types.js'
import { ValidationError, abortReason, errorMessage } from '../errors.js'
import { checkMs } from '../validate.js'
import { formatMs } from '../clock.js'

export interface HttpHealthCheckOptions {
  /** Path requested on each target. @default '/_status' */
  path?: string
  /** Port used when the target has none. @default 80 */
  port?: number
  /** Time allowed for the whole answer, body included. @default 5000 */
  timeoutMs?: number
  /** Status that means healthy. @default 200 */
  expectStatus?: number
  headers?: Record<string, string>
  /** undici dispatcher to send through; not closed by `close()`. @default a keep-alive Agent owned by the check */
  dispatcher?: Dispatcher
  /** Bytes of the body read for the build info; the rest is discarded. @default 65536 */
  maxBodyBytes?: number
}

export interface HttpHealthCheck extends HealthCheck {
  /** Closes the check's own keep-alive Agent (not a dispatcher passed in). */
  close(): Promise<void>
}

export function httpHealthCheck(options: HttpHealthCheckOptions = {}): HttpHealthCheck {
  const path = options.path ?? '/_status'
  const defaultPort = options.port ?? 80
  const timeoutMs = options.timeoutMs ?? 5000
  const expectStatus = options.expectStatus ?? 200
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ValidationError('path', `expected a path starting with "/", got ${JSON.stringify(path)}`)
  if (!isPort(defaultPort)) throw new ValidationError('port', `expected an integer from 1 to 65535, got ${defaultPort}`)
  checkMs('timeoutMs', timeoutMs, { min: 1 }) // it ends in a timer: refused above Node's ceiling too
  if (!Number.isInteger(expectStatus) || expectStatus < 100 || expectStatus > 599)
    throw new ValidationError('expectStatus', `expected an HTTP status, got ${expectStatus}`)
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0) throw new ValidationError('maxBodyBytes', `expected an integer >= 0, got ${maxBodyBytes}`)

  const http = lazyHttp({ dispatcher: options.dispatcher, connectTimeout: timeoutMs })
  const headers = { accept: 'application/json', ...options.headers }

  async function check(target: Target, ctx: AdapterContext): Promise<Health> {
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    const { request, dispatcher } = await http.load()
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    const port = target.port ?? defaultPort
    const host = target.address.includes(':') && !target.address.startsWith('[') ? `[${target.address}]` : target.address
    const url = `http://${host}:${port}${path}`
    const started = performance.now()
    const latency = () => Math.round((performance.now() - started) * 10) / 10

    // Our own timer rather than AbortSignal.any, which leaks on long-lived parent signals in Node 20.
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort(new Error(`no answer within ${formatMs(timeoutMs)}`))
    }, timeoutMs)
    const onAbort = () => controller.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', onAbort, { once: true })

    let status: number | undefined
    try {
      const response = await request(url, {
        method: 'GET',
        headers,
        dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      status = response.statusCode
      let text: string
      try {
        text = await readCapped(response.body, maxBodyBytes)
      } finally {
        // Always release the socket, whether or not the body was read to the end.
        if (!response.body.destroyed) response.body.destroy()
      }
      const build = buildInfo(text, response.headers['content-type'])
      const ok = status === expectStatus
      return {
        ok,
        status,
        ...build,
        ...(ok ? {} : { detail: `status ${status} (expected ${expectStatus})${snippet(text)}` }),
        latencyMs: latency(),
      }
    } catch (error) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      // "timed out" is what people grep logs for; the contract suite checks for it too.
      const detail = timedOut || isTimeout(error) ? `no answer within ${formatMs(timeoutMs)} (timed out)` : describeFailure(error)
      return { ok: false, ...(status === undefined ? {} : { status }), detail, latencyMs: latency() }
    } finally {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
    }
  }

  return {
    name: 'http',
    check,
    async close() {
      await http.close()
    },
  }
}

async function readCapped(body: AsyncIterable<Buffer>, max: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const room = max - size
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk)
    size += Math.min(chunk.length, room)
    if (size >= max) break // the caller destroys the rest
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads `version` and `builtAt` from a JSON body, accepting the common spellings. */
function buildInfo(text: string, contentType: string | string[] | undefined): { version?: string; builtAt?: string } {
  const type = String(contentType ?? '')
  if (!type.includes('json') && !/^\s*\{/.test(text)) return {}
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return {}
  }
  if (!isRecord(data)) return {}
  const build = isRecord(data.build) ? data.build : {}
  const version = scalar(data.version) ?? scalar(build.version)
  const builtAt =
    scalar(data.builtAt) ??
    scalar(data.build_time) ??
    scalar(data.buildTime) ??
    scalar(build.builtAt) ??
    scalar(build.build_time) ??
    scalar(build.buildTime) ??
    scalar(build.time)
  return { ...(version === undefined ? {} : { version }), ...(builtAt === undefined ? {} : { builtAt }) }
}

function describeFailure(error: unknown): string {
  const code = errorCode(error)
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection closed before an answer (${code})`
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `host unreachable (${code})`
  return code ? `${errorMessage(error)} (${code})` : errorMessage(error)
}

function isTimeout(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT'
}

/** The error's code, looking through `cause` and AggregateError (dual-stack connect attempts). */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 3) return undefined
  if (typeof error.code === 'string' && error.code !== 'UND_ERR_CONNECT' && !error.code.startsWith('ERR_')) return error.code
  if (Array.isArray(error.errors)) for (const inner of error.errors) if (errorCode(inner, depth + 1)) return errorCode(inner, depth + 1)
  return errorCode(error.cause, depth + 1) ?? (typeof error.code === 'string' ? error.code : undefined)
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  if (line === '') return ''
  return `: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535
}
