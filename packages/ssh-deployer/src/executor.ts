// sshExecutor: the Executor contract over ssh2. Commands of every step of a rollout share
// one pooled connection per host; uploads go over SFTP on the same connection; stats()
// tells where the time went per host (connect, upload, commands, the executor's own overhead).
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { ValidationError, type AdapterContext, type ExecRequest, type Executor, type Target } from '@org/rolling-core'
import { abortReason, describeTarget, maskSecrets, truncate } from '@org/rolling-core/adapter'
import { callContext } from './call-signal.js'
import { remoteCommand, signalCommand } from './command.js'
import { execOn } from './exec.js'
import { HostKeyChecker } from './host-keys.js'
import { endpointOf, resolveOptions, type Endpoint, type SshExecutorOptions } from './options.js'
import { Pool } from './pool.js'
import { uploadOn, type UploadResult } from './upload.js'

/** Time spent for one target, in ms, since the executor was made. */
export interface HostStats {
  target: string
  /** `user@host:port` (and the bastion) this target is reached at. */
  endpoint: string
  /** TCP connections (SSH sessions) opened to that endpoint; 1 when the pool did its job. */
  connections: number
  /** Handshake + authentication time of those connections. */
  connectMs: number
  /** Connection attempts that failed (and were retried, or reported). */
  connectFailures: number
  commands: number
  /** Exec channel lifetimes: open, run on the host, exit status, close. */
  commandMs: number
  uploads: number
  uploadBytes: number
  uploadMs: number
  /** Waiting for the connection (connecting included) and for a free channel. */
  waitMs: number
  /** Wall time of every run() and upload() call for this target. */
  totalMs: number
  /** `totalMs - waitMs - commandMs - uploadMs`: what the executor itself adds. */
  overheadMs: number
}

export interface UploadOptions {
  /** Remote file mode. @default 0o600 */
  mode?: number
  /** Give up after this long (rejects with EXEC_TIMEOUT). */
  timeoutMs?: number
}

export interface SshExecutor extends Executor {
  readonly name: 'ssh'
  /** Opens the target's pooled connection ahead of its first command (the engine calls it at the pre-check). */
  connect(target: Target, ctx: AdapterContext): Promise<void>
  /** Streams a local file (or a stream) to `remotePath` on the target over SFTP. */
  upload(target: Target, source: string | Readable, remotePath: string, ctx: AdapterContext, options?: UploadOptions): Promise<UploadResult>
  /** Per-target timings and connection counts. */
  stats(): HostStats[]
  /** Ends every pooled connection; later calls fail. */
  close(): Promise<void>
}

/**
 * An Executor over SSH. Host keys are checked strictly unless `hostKeys: 'insecure-accept-any'`.
 * @example sshExecutor({ username: 'deploy', privateKeyPath: '/home/ci/.ssh/id_ed25519', hostKeys: { knownHosts: '/etc/ssh/ssh_known_hosts' } })
 */
export function sshExecutor(options: SshExecutorOptions): SshExecutor {
  const settings = resolveOptions(options)
  const checker = new HostKeyChecker(settings.hostKeys)
  const pool = new Pool({
    checker,
    connectTimeoutMs: settings.connectTimeoutMs,
    keepaliveIntervalMs: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    concurrency: settings.concurrency,
    maxChannels: settings.maxChannels,
    idleTimeoutMs: settings.idleTimeoutMs,
    retry: settings.retry,
  })
  const perTarget = new Map<string, Omit<HostStats, 'connections' | 'connectMs' | 'connectFailures' | 'overheadMs'>>()
  const account = (target: Target, endpoint: Endpoint) => {
    let s = perTarget.get(target.id)
    if (!s) {
      s = { target: target.id, endpoint: endpoint.key, commands: 0, commandMs: 0, uploads: 0, uploadBytes: 0, uploadMs: 0, waitMs: 0, totalMs: 0 }
      perTarget.set(target.id, s)
    }
    return s
  }

  return {
    name: 'ssh',

    async run(target, input, ctx) {
      const request: ExecRequest = typeof input === 'string' ? { command: input } : input
      if (typeof request.command !== 'string' || request.command.trim() === '') {
        throw new ValidationError('command', `expected a non-empty command line for ${describeTarget(target)}`)
      }
      const timeoutMs = request.timeoutMs ?? settings.commandTimeoutMs
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
        throw new ValidationError('timeoutMs', `expected a finite number > 0, got ${timeoutMs}`)
      }
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      const endpoint = endpointOf(target, settings)
      const { line, script } = remoteCommand(target, request, settings)
      const secrets = request.secrets ?? []
      const stats = account(target, endpoint)
      const started = performance.now()
      const call = callContext(ctx)
      try {
        return await pool.use(endpoint, ctx.log, call.ctx.signal, async (connection, waitedMs) => {
          stats.waitMs += waitedMs
          const execStarted = performance.now()
          try {
            return await execOn(
              connection,
              {
                line,
                script,
                shown: truncate(maskSecrets(request.command, secrets), 200),
                where: whereOf(target, endpoint),
                secrets,
                timeout: timeoutMs === undefined ? undefined : { ms: timeoutMs, source: request.timeoutMs === undefined ? 'commandTimeoutMs' : 'timeoutMs' },
                killGraceMs: settings.killGraceMs,
                maxOutputChars: settings.maxOutputChars,
                signalLine: (pgid, signal) => signalCommand(pgid, signal, settings),
              },
              call.ctx,
            )
          } finally {
            stats.commands++
            stats.commandMs += performance.now() - execStarted
          }
        })
      } catch (error) {
        throw maskError(error, secrets)
      } finally {
        call.dispose()
        stats.totalMs += performance.now() - started
      }
    },

    // Opens the pooled connection (handshake, host key, login) without running anything.
    async connect(target, ctx) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      const endpoint = endpointOf(target, settings)
      await pool.use(endpoint, ctx.log, ctx.signal, async () => {})
    },

    async upload(target, source, remotePath, ctx, uploadOptions = {}) {
      if (typeof remotePath !== 'string' || !remotePath.startsWith('/'))
        throw new ValidationError('remotePath', `expected an absolute path, got ${JSON.stringify(remotePath)}`)
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      const endpoint = endpointOf(target, settings)
      const stats = account(target, endpoint)
      const started = performance.now()
      const call = callContext(ctx)
      try {
        return await pool.use(endpoint, ctx.log, call.ctx.signal, async (connection, waitedMs) => {
          stats.waitMs += waitedMs
          const uploadStarted = performance.now()
          try {
            const result = await uploadOn(connection, source, remotePath, whereOf(target, endpoint), call.ctx, uploadOptions)
            stats.uploadBytes += result.bytes
            return result
          } finally {
            stats.uploads++
            stats.uploadMs += performance.now() - uploadStarted
          }
        })
      } finally {
        call.dispose()
        stats.totalMs += performance.now() - started
      }
    },

    stats() {
      return [...perTarget.values()].map((s) => {
        const c = pool.stats.get(s.endpoint)
        return {
          ...s,
          connections: c?.connections ?? 0,
          connectMs: c?.connectMs ?? 0,
          connectFailures: c?.failedAttempts ?? 0,
          overheadMs: Math.max(0, s.totalMs - s.waitMs - s.commandMs - s.uploadMs),
        }
      })
    },

    close: () => pool.close(),
  }
}

function whereOf(target: Target, endpoint: Endpoint): string {
  return `${target.id} (${endpoint.key})`
}

/** Secrets may reach an error through the server's own messages: masked there too. */
function maskError(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || !(error instanceof Error)) return error
  const masked = maskSecrets(error.message, secrets)
  if (masked !== error.message) error.message = masked
  return error
}
