// The adapter's options: documented with their defaults, validated once at the entry point
// (a bad value names the option and the value).
import { ValidationError } from '@org/rolling-core'
import { checkMs } from '@org/rolling-core/adapter'
import { unique } from './servers.js'

export interface HaproxyLoadBalancerOptions {
  /**
   * The runtime API: a unix socket path or `host:port`, declared with `level admin`.
   * @example '/run/haproxy/admin.sock'
   */
  socket: string
  /** The backend(s) whose servers are the targets. */
  backends: string | readonly string[]
  /**
   * Longest wait for a drained server's connections (scur) and queue (qcur) to reach 0.
   * @default 300_000
   */
  drainTimeoutMs?: number
  /**
   * Longest wait for attached servers to pass fresh health checks.
   * @default 60_000
   */
  attachTimeoutMs?: number
  /**
   * First delay between drain polls; later delays grow to at most 1 s.
   * @default 200
   */
  pollMs?: number
  /** Interval of the steady poll while attach waits for HAProxy to report the server UP. @default 50 */
  attachPollMs?: number
  /**
   * What proves a server healthy on its new build before attach gives it traffic again.
   * `'settle'`: the engine's settle, when it has just seen the target pass (`ctx.seenHealthy`,
   * within the last 2 s): `health up` at once; a server without that proof (resumed, restored)
   * waits as with `'one'`. `'one'`: the first fresh passing check of HAProxy's own, then
   * `health up` (up to one `inter`). `'rise'`: HAProxy's full `rise` count of fresh checks,
   * `inter` apart. See the README for the trade-off.
   * @default 'settle'
   */
  attachChecks?: 'settle' | 'one' | 'rise'
  /**
   * Longest wait for one runtime API command.
   * @default 5000
   */
  commandTimeoutMs?: number
}

export const DEFAULTS = {
  drainTimeoutMs: 300_000,
  attachTimeoutMs: 60_000,
  pollMs: 200,
  attachPollMs: 50,
  commandTimeoutMs: 5000,
  attachChecks: 'settle' as 'settle' | 'one' | 'rise',
}

// HAProxy accepts only these characters in proxy and server names; anything else
// (a space, a `;` that would chain a second command) cannot name a server.
export const NAME = /^[A-Za-z0-9_.:-]+$/

export function validate(opts: Required<HaproxyLoadBalancerOptions>): readonly string[] {
  if (typeof opts.socket !== 'string' || opts.socket === '') {
    throw new ValidationError('socket', `haproxyLoadBalancer: expected a unix socket path or host:port, got ${JSON.stringify(opts.socket)}`)
  }
  const backends = typeof opts.backends === 'string' ? [opts.backends] : [...(opts.backends ?? [])]
  if (backends.length === 0 || backends.some((be) => typeof be !== 'string' || !NAME.test(be))) {
    throw new ValidationError('backends', `haproxyLoadBalancer: expected one or more HAProxy backend names, got ${JSON.stringify(opts.backends)}`)
  }
  // The core's check: it also refuses a duration above Node's timer ceiling.
  for (const key of ['drainTimeoutMs', 'attachTimeoutMs', 'pollMs', 'attachPollMs', 'commandTimeoutMs'] as const)
    checkMs(key, opts[key], { min: key === 'drainTimeoutMs' ? 0 : 1 })
  if (!['settle', 'one', 'rise'].includes(opts.attachChecks))
    throw new ValidationError('attachChecks', `haproxyLoadBalancer: expected 'settle', 'one' or 'rise', got ${JSON.stringify(opts.attachChecks)}`)
  return unique(backends)
}
