// A server of the configured backends as the adapter handles it: resolved from a target,
// turned back into one, and named in messages.
import type { ExcludedTarget, Target } from '@org/rolling-core'
import { foreignState } from './ownership.js'
import type { ServerState } from './parse.js'

export interface Resolved {
  target: Target
  /** `<backend>/<server>`, as the runtime API names it. */
  ref: string
  state: ServerState
  /** For messages: the ref with the address and port HAProxy has for it. */
  label: string
}

export interface Busy {
  server: string
  scur: number
  qcur: number
}

export const toTarget = (s: ServerState): Target => ({
  id: `${s.backend}/${s.server}`,
  address: s.address,
  ...(s.port === undefined ? {} : { port: s.port }),
  labels: { backend: s.backend, server: s.server },
})
export const unique = (values: readonly string[]): string[] => [...new Set(values)]
export const refsOf = (servers: readonly Resolved[]): string => servers.map((s) => s.ref).join(', ')
export const seconds = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(1))}s`)

/** Splits resolved servers into someone else's (left as found, named with the reason) and ours. */
export function byOwner(servers: readonly Resolved[], at: 'detach' | 'attach'): { foreign: ExcludedTarget[]; ours: Resolved[] } {
  const foreign: ExcludedTarget[] = []
  const ours: Resolved[] = []
  for (const s of servers) {
    const reason = foreignState(s.state, at)
    if (reason === undefined) ours.push(s)
    else foreign.push({ target: s.target, reason })
  }
  return { foreign, ours }
}
