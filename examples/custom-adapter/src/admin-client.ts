// A client of tinylb's admin API over undici: one keep-alive connection pool, a time limit
// on every call, and the caller's AbortSignal honoured (an abort rejects with its reason).
import { Agent, request } from 'undici'
import { abortReason } from '@org/rolling-core/adapter'
import { TinyLbError } from './errors.js'
import type { TinyLbBackend } from './tinylb.js'

export interface AdminClient {
  list(signal: AbortSignal): Promise<TinyLbBackend[]>
  post(path: string, signal: AbortSignal): Promise<unknown>
}

export function adminClient(baseUrl: string, timeoutMs: number): AdminClient {
  const agent = new Agent({ keepAliveTimeout: 10_000, connectTimeout: timeoutMs })

  const call = async (method: 'GET' | 'POST', path: string, signal: AbortSignal): Promise<unknown> => {
    if (signal.aborted) throw abortReason(signal)
    // One controller for both the caller's abort and this call's own time limit.
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs)
    try {
      const response = await request(new URL(path, baseUrl), { method, dispatcher: agent, signal: controller.signal })
      const text = await response.body.text()
      if (response.statusCode >= 400) {
        throw new TinyLbError('api', `${method} ${path} answered ${response.statusCode}: ${text.trim().slice(0, 200)}`)
      }
      return JSON.parse(text) as unknown
    } catch (error) {
      if (signal.aborted) throw abortReason(signal)
      if (error instanceof TinyLbError) throw error
      const why = controller.signal.aborted ? String((controller.signal.reason as Error).message) : error instanceof Error ? error.message : String(error)
      throw new TinyLbError('unreachable', `${method} ${new URL(path, baseUrl).href} failed: ${why}`, { cause: error })
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  return {
    async list(signal) {
      return ((await call('GET', '/backends', signal)) as { backends: TinyLbBackend[] }).backends
    },
    post: (path, signal) => call('POST', path, signal),
  }
}
