// Attach's wait: a steady poll of HAProxy until every server is in the wanted state, whose
// timeout says what HAProxy saw of each late server (its status, its last health check).
import type { AdapterContext } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import type { ServerStat, ServerState } from './parse.js'
import { type Resolved, refsOf, unique } from './servers.js'

/** What the wait reads from HAProxy, and how often. */
export interface ServerQueries {
  states(names: readonly string[], signal: AbortSignal): Promise<ServerState[]>
  stats(names: readonly string[], signal: AbortSignal): Promise<Map<string, ServerStat>>
  pollMs: number
}

export async function waitForState(
  api: ServerQueries,
  servers: Resolved[],
  ok: (s: ServerState) => boolean,
  what: string,
  by: number,
  ctx: AdapterContext,
  /** When given, a server is ready once HAProxy's `show stat` row passes this, or `ok` holds. */
  okStat?: (s: ServerStat) => boolean,
) {
  if (servers.length === 0) return
  const names = unique(servers.map((s) => s.state.backend))
  // Say what HAProxy saw: its status and the last health check of each late server.
  const describe = async (observed: unknown) => {
    const late = new Set((observed ?? []) as string[])
    const live = await api.stats(names, ctx.signal).catch(() => new Map<string, ServerStat>())
    const detail = servers
      .filter((s) => late.has(s.ref))
      .map((s) => {
        const row = live.get(s.ref)
        if (!row) return s.ref
        const check = [row.checkStatus.replace(/^\* /, ''), row.checkCode, row.checkDesc && `(${row.checkDesc})`].filter(Boolean).join(' ')
        return `${s.label}: HAProxy reports ${row.status}${check ? `, last health check ${check}` : ''}`
      })
    return `${detail.join('; ')}; left out of service`
  }
  await waitUntil(
    async () => {
      const [now, live] = await Promise.all([api.states(names, ctx.signal), okStat ? api.stats(names, ctx.signal) : undefined])
      const late = servers.filter((s) => {
        const state = now.find((n) => n.backend === s.state.backend && n.server === s.state.server)
        const row = live?.get(s.ref)
        return !(state && ok(state)) && !(row && okStat?.(row))
      })
      return late.length === 0 ? { state: 'done', value: undefined } : { state: 'retry', observed: late.map((s) => s.ref) }
    },
    // A steady poll, no backoff: HAProxy turns a server UP at a check boundary, and every
    // poll interval of lag is time the host spends out of service. `show servers state`
    // every 50 ms costs HAProxy nothing worth counting.
    {
      what: `${refsOf(servers)} to ${what}`,
      timeoutMs: Math.max(0, by - ctx.clock.now()),
      deadline: ctx.deadline,
      label: 'haproxy',
      describe,
      minDelayMs: api.pollMs,
      maxDelayMs: api.pollMs,
      factor: 1,
      jitter: 0,
      signal: ctx.signal,
      clock: ctx.clock,
    },
  )
}
