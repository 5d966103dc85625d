// Runs one command on an open connection: an exec channel, stdout/stderr streamed and
// masked, the exit status or signal reported. A timeout or an abort signals the remote
// process group (TERM, then KILL after a grace period) and closes the channel; a connection
// that drops before the exit status arrived is a clear failure, and nothing is re-run.
import { performance } from 'node:perf_hooks'
import type { ClientChannel } from 'ssh2'
import { RollingError, type AdapterContext, type ExecResult } from '@org/rolling-core'
import { OutputStream, abortReason, maskSecrets } from '@org/rolling-core/adapter'
import type { Connection } from './connection.js'
import { SshError } from './errors.js'
import { readPgidMarker } from './command.js'

export interface ExecJob {
  /** The command line sent to sshd. */
  line: string
  /** Written to the channel's stdin, then EOF: the script, out of the host's argv. */
  script: string
  /** The request's own command, masked and cut, for messages. */
  shown: string
  /** `host-1 (root@127.0.0.2:22)`, for messages. */
  where: string
  secrets: readonly string[]
  /** Effective time limit, ms, and what set it (for the message). */
  timeout: { ms: number; source: string } | undefined
  killGraceMs: number
  maxOutputChars: number
  /** The command line that signals the command's process group on the host. */
  signalLine: (pgid: number, signal: 'TERM' | 'KILL') => string
}

export function execOn(connection: Connection, job: ExecJob, ctx: AdapterContext): Promise<ExecResult> {
  const started = performance.now()
  return new Promise<ExecResult>((resolve, reject) => {
    const stdout = new OutputStream('stdout', job.secrets, job.maxOutputChars, ctx, 'ssh')
    const stderr = new OutputStream('stderr', job.secrets, job.maxOutputChars, ctx, 'ssh')
    let channel: ClientChannel | undefined
    let failure: Error | undefined
    let exit: { code: number | null; signal: string | null } | undefined
    let settled = false
    const timers: ReturnType<typeof setTimeout>[] = []
    // The process group id arrives as the first stderr line; held until it is complete.
    let pgid: number | undefined
    let head: Buffer | undefined = Buffer.alloc(0)
    const sent = new Set<'TERM' | 'KILL'>()
    const onStderr = (chunk: Buffer) => {
      if (head === undefined) return stderr.write(chunk)
      head = Buffer.concat([head, chunk])
      const newline = head.indexOf(0x0a)
      if (newline === -1 && head.length < 64) return
      const text = head.toString('latin1')
      head = undefined
      const marker = readPgidMarker(text)
      if (!marker) return stderr.write(Buffer.from(text, 'latin1'))
      pgid = marker.pgid
      const rest = Buffer.from(text.slice(marker.length), 'latin1')
      if (rest.length) stderr.write(rest)
      // Stopped before the group was known: signal it now.
      for (const name of sent) killGroup(name)
    }
    const flushHead = () => {
      if (head?.length) stderr.write(head)
      head = undefined
    }
    // A second channel running `kill` on the group: works where sshd refuses signal requests.
    const killGroup = (name: 'TERM' | 'KILL') => {
      if (pgid === undefined || connection.closed) return
      connection.client.exec(job.signalLine(pgid, name), (error, killer) => {
        if (error) return
        killer.on('error', () => {})
        killer.on('data', () => {})
        killer.stderr.on('data', () => {})
        killer.on('close', () => {})
      })
    }

    const settle = (outcome: { error: Error } | { ok: true }) => {
      if (settled) return
      settled = true
      for (const t of timers) clearTimeout(t)
      ctx.signal.removeEventListener('abort', onAbort)
      offClose()
      flushHead()
      stdout.end()
      stderr.end()
      if ('error' in outcome) return reject(outcome.error)
      // After end(): text held back as a possible secret prefix is flushed into the result.
      const status = exit ?? { code: null, signal: null }
      resolve({ exitCode: status.code, signal: status.signal, stdout: stdout.text(), stderr: stderr.text(), durationMs: performance.now() - started })
    }
    const signalRemote = (name: 'TERM' | 'KILL') => {
      sent.add(name)
      try {
        channel?.signal(name)
      } catch {
        // Channel already closing.
      }
      killGroup(name)
    }
    // Ends the command: the process group gets TERM (sshd runs each session in its own
    // group), then KILL; the channel is closed and the call rejects at the latest after
    // the grace period, even if the server ignores signal requests.
    const stop = (reason: Error) => {
      if (failure || settled) return
      failure = reason
      signalRemote('TERM')
      timers.push(
        setTimeout(() => {
          signalRemote('KILL')
          channel?.close()
          timers.push(setTimeout(() => settle({ error: reason }), 500))
        }, job.killGraceMs),
      )
    }
    const onAbort = () => stop(abortReason(ctx.signal))
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    if (job.timeout) {
      const { ms, source } = job.timeout
      timers.push(
        setTimeout(() => {
          stop(new RollingError('EXEC_TIMEOUT', `[rolling:ssh] command on ${job.where} timed out after ${Math.round(ms)} ms (${source}): ${job.shown}`))
        }, ms),
      )
    }
    const offClose = connection.onClose((reason) => {
      // Give the channel's own close (with a late exit status) a moment to arrive first.
      setImmediate(() => {
        if (settled) return
        if (failure) return settle({ error: failure })
        settle({
          error: new SshError(
            'connection-lost',
            `[rolling:ssh] connection to ${job.where} was lost while \`${job.shown}\` was running (${maskSecrets(reason, job.secrets)}); ` +
              'it may have run partly or fully on the host and was NOT re-run',
          ),
        })
      })
    })

    connection.client.exec(job.line, (error, opened) => {
      if (error) {
        // The channel never opened or the server refused the exec request: nothing ran.
        return settle({
          error:
            failure ??
            (connection.closed
              ? new SshError('connection-lost', `[rolling:ssh] connection to ${job.where} was lost before \`${job.shown}\` started; it was NOT re-run`, {
                  cause: error,
                })
              : new SshError('channel', `[rolling:ssh] ${job.where} refused to run \`${job.shown}\`: ${error.message}`, { cause: error })),
        })
      }
      channel = opened
      if (settled) return void opened.close()
      // Stopped while the channel was opening: the command may have started; signal it too.
      if (failure) {
        try {
          opened.signal('TERM')
        } catch {
          // Closing already.
        }
      }
      // Permanent: a channel torn down under a write emits 'error'; the close handling below reports it.
      opened.on('error', () => {})
      opened.stderr.on('error', () => {})
      opened.end(job.script)
      opened.on('data', (chunk: Buffer) => stdout.write(chunk))
      opened.stderr.on('data', onStderr)
      opened.on('exit', (code: number | null, signal?: string) => {
        exit = typeof code === 'number' ? { code, signal: null } : { code: null, signal: signal ? (signal.startsWith('SIG') ? signal : `SIG${signal}`) : null }
      })
      opened.on('close', () => {
        if (failure) return settle({ error: failure })
        if (!exit) {
          // Channel closed without an exit status: the server side went away mid-command.
          return setImmediate(() =>
            settle({
              error: new SshError(
                'connection-lost',
                `[rolling:ssh] ${job.where} closed the channel of \`${job.shown}\` without an exit status${connection.closed ? ` (${connection.closed.reason})` : ''}; ` +
                  'it may have run partly or fully on the host and was NOT re-run',
              ),
            }),
          )
        }
        settle({ ok: true })
      })
    })
  })
}
