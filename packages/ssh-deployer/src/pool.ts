// The connection pool: one connection per endpoint (user@host:port, and bastion) shared by
// every command of a rollout, set up at most `concurrency` at a time, retried with backoff
// when connecting fails (connecting runs nothing, so it is safe to repeat), closed when idle.
import { performance } from 'node:perf_hooks'
import pLimit from 'p-limit'
import pRetry, { AbortError as StopRetrying } from 'p-retry'
import { type Logger } from '@org/rolling-core'
import { raceAbort } from '@org/rolling-core/adapter'
import { connect, type Connection, type ConnectSettings } from './connection.js'
import { SshError } from './errors.js'
import type { Endpoint } from './options.js'

export interface PoolSettings extends Omit<ConnectSettings, 'onInsecure'> {
  concurrency: number
  maxChannels: number
  idleTimeoutMs: number
  retry: { retries: number; minTimeoutMs: number; maxTimeoutMs: number }
}

interface Entry {
  connection: Promise<Connection>
  /** Commands and uploads running or queued on it. */
  users: number
  idleTimer: ReturnType<typeof setTimeout> | undefined
  channels: ReturnType<typeof pLimit>
}

/** Counters per endpoint, for `stats()`. */
export interface ConnectionStats {
  /** TCP connections (SSH sessions) opened, retries included. */
  connections: number
  /** Failed connection attempts. */
  failedAttempts: number
  /** Handshake + authentication time of the successful connections, ms. */
  connectMs: number
}

export class Pool {
  private readonly entries = new Map<string, Entry>()
  private readonly handshakes: ReturnType<typeof pLimit>
  private readonly closing = new AbortController()
  readonly stats = new Map<string, ConnectionStats>()

  constructor(private readonly settings: PoolSettings) {
    this.handshakes = pLimit(settings.concurrency)
  }

  /**
   * Runs `fn` on the endpoint's connection, opening it when needed, within the channel limit.
   * `fn` never runs twice: only connecting is retried.
   */
  async use<T>(endpoint: Endpoint, log: Logger, signal: AbortSignal, fn: (connection: Connection, waitedMs: number) => Promise<T>): Promise<T> {
    const started = performance.now()
    // A pooled connection found dead before `fn` started is replaced: nothing ran on it yet.
    for (let attempt = 1; ; attempt++) {
      if (this.closing.signal.aborted) throw new SshError('connect', `[rolling:ssh] the executor is closed; cannot reach ${endpoint.key}`)
      const entry = this.entry(endpoint, log)
      entry.users++
      if (entry.idleTimer) clearTimeout(entry.idleTimer)
      entry.idleTimer = undefined
      try {
        const connection = await raceAbort(entry.connection, signal)
        const outcome = await entry.channels(async (): Promise<{ value: T } | { stale: string }> => {
          signal.throwIfAborted()
          if (connection.closed) return { stale: connection.closed.reason }
          return { value: await fn(connection, performance.now() - started) }
        })
        if ('value' in outcome) return outcome.value
        this.drop(endpoint.key, entry)
        if (attempt >= 3) throw new SshError('connect', `[rolling:ssh] the connection to ${endpoint.key} keeps closing: ${outcome.stale}`)
      } finally {
        entry.users--
        if (entry.users === 0 && this.entries.get(endpoint.key) === entry) {
          entry.idleTimer = setTimeout(() => this.drop(endpoint.key, entry), this.settings.idleTimeoutMs)
          entry.idleTimer.unref()
        }
      }
    }
  }

  /** Ends every connection; later calls fail. */
  async close(): Promise<void> {
    this.closing.abort(new SshError('connect', '[rolling:ssh] the executor was closed'))
    const all = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(
      all.map(async (entry) => {
        if (entry.idleTimer) clearTimeout(entry.idleTimer)
        const connection = await entry.connection.catch(() => undefined)
        connection?.end()
      }),
    )
  }

  private entry(endpoint: Endpoint, log: Logger): Entry {
    const existing = this.entries.get(endpoint.key)
    if (existing) return existing
    const entry: Entry = { connection: this.open(endpoint, log), users: 0, idleTimer: undefined, channels: pLimit(this.settings.maxChannels) }
    this.entries.set(endpoint.key, entry)
    entry.connection.then(
      (connection) => connection.onClose(() => this.drop(endpoint.key, entry)),
      () => this.drop(endpoint.key, entry),
    )
    // Nobody may be awaiting it when it fails (all callers aborted): not an unhandled rejection.
    entry.connection.catch(() => {})
    return entry
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return
    this.entries.delete(key)
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    void entry.connection.then((c) => c.end()).catch(() => {})
  }

  private counters(key: string): ConnectionStats {
    const existing = this.stats.get(key)
    if (existing) return existing
    const created = { connections: 0, failedAttempts: 0, connectMs: 0 }
    this.stats.set(key, created)
    return created
  }

  /** Connects with retries; not bound to any caller's signal, since several callers share it. */
  private open(endpoint: Endpoint, log: Logger): Promise<Connection> {
    const { retry } = this.settings
    const counters = this.counters(endpoint.key)
    return pRetry(
      async () => {
        try {
          const connection = await this.handshakes(async () => {
            this.closing.signal.throwIfAborted()
            const sock = endpoint.via ? await this.forward(endpoint, log) : undefined
            return connect(endpoint, { ...this.settings, onInsecure: (e, fp) => warnInsecure(log, e, fp) }, sock)
          })
          counters.connections++
          counters.connectMs += connection.connectMs
          return connection
        } catch (error) {
          counters.failedAttempts++
          // A wrong host key or a refused login will not get better by asking again.
          if (error instanceof SshError && (error.reason === 'host-key' || error.reason === 'auth')) throw new StopRetrying(error)
          throw error
        }
      },
      {
        retries: retry.retries,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        signal: this.closing.signal,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) log.debug(`[rolling:ssh] connecting to ${endpoint.key} failed (attempt ${attemptNumber}): ${error.message}; retrying`)
        },
      },
    )
  }

  /** A direct-tcpip stream from the bastion to the target, for the target's handshake. */
  private async forward(endpoint: Endpoint, log: Logger): Promise<import('node:stream').Duplex> {
    const via = endpoint.via as Endpoint
    const bastion = await this.entry(via, log).connection
    return new Promise((resolve, reject) => {
      bastion.client.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (error, stream) => {
        if (error)
          reject(new SshError('connect', `[rolling:ssh] bastion ${via.key} cannot reach ${endpoint.host}:${endpoint.port}: ${error.message}`, { cause: error }))
        else {
          // ssh2 listens on the stream it is given; this one covers the time before and after.
          stream.on('error', () => {})
          resolve(stream)
        }
      })
    })
  }
}

function warnInsecure(log: Logger, endpoint: Endpoint, fingerprint: string): void {
  log.warn(
    `[rolling:ssh] host key of ${endpoint.host}:${endpoint.port} NOT verified (hostKeys: 'insecure-accept-any'); it presented ${fingerprint}. ` +
      'Anyone on the network path could impersonate it.',
    { host: endpoint.host, port: endpoint.port, fingerprint },
  )
}
