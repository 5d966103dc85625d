// The local executor: runs each command through a shell as a child of this process, in
// its own process group so a timeout or an abort ends everything the command started.
// Used by the local fleet, by tests, and for deploy steps that run on the controller.
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { AdapterContext, ExecRequest, ExecResult, Executor, Target } from '../types.js'
import { RollingError, ValidationError, abortReason, describeTarget, errorMessage } from '../errors.js'
import { checkMs, checkOptionalMs } from '../validate.js'
import { formatMs } from '../clock.js'
import { maskSecrets, stdinScript } from '../shell.js'
import { OutputStream, truncate } from '../output.js'

export interface LocalExecutorOptions {
  /** Shell that runs each command read from its stdin (`<shell> -s`), so no value of it shows in `ps`. @default '/bin/sh' */
  shell?: string
  /** Working directory per target; `request.cwd` wins. @default the current directory */
  cwd?: (target: Target) => string | undefined
  /** Extra environment per target; `request.env` wins over it. */
  env?: (target: Target) => Record<string, string> | undefined
  /** Time between SIGTERM and SIGKILL of the process group on timeout or abort. @default 2000 */
  killGraceMs?: number
  /**
   * Characters of stdout and of stderr kept in the result (the last ones); streaming to
   * `ctx.output` is not affected. @default 1048576
   */
  maxOutputChars?: number
}

export function localExecutor(options: LocalExecutorOptions = {}): Executor {
  const shell = options.shell ?? '/bin/sh'
  const killGraceMs = options.killGraceMs ?? 2000
  const maxOutputChars = options.maxOutputChars ?? 1024 * 1024
  if (typeof shell !== 'string' || shell === '') throw new ValidationError('shell', `expected a non-empty path, got ${JSON.stringify(shell)}`)
  checkMs('killGraceMs', killGraceMs) // it ends in a timer: refused above Node's ceiling too
  if (!Number.isInteger(maxOutputChars) || maxOutputChars < 0) throw new ValidationError('maxOutputChars', `expected an integer >= 0, got ${maxOutputChars}`)

  return {
    name: 'local',
    run(target, input, ctx) {
      const request: ExecRequest = typeof input === 'string' ? { command: input } : input
      if (typeof request.command !== 'string' || request.command.trim() === '') {
        return Promise.reject(new ValidationError('command', `expected a non-empty command line for ${describeTarget(target)}`))
      }
      const { timeoutMs } = request
      try {
        checkOptionalMs('timeoutMs', timeoutMs, { min: 1 })
      } catch (error) {
        return Promise.reject(error)
      }
      if (ctx.signal.aborted) return Promise.reject(abortReason(ctx.signal))
      return runCommand(target, request, ctx, { shell, killGraceMs, maxOutputChars, cwd: options.cwd, env: options.env })
    },
  }
}

interface Settings {
  shell: string
  killGraceMs: number
  maxOutputChars: number
  cwd: LocalExecutorOptions['cwd']
  env: LocalExecutorOptions['env']
}

function runCommand(target: Target, request: ExecRequest, ctx: AdapterContext, settings: Settings): Promise<ExecResult> {
  const secrets = request.secrets ?? []
  const shown = truncate(maskSecrets(request.command, secrets), 200)
  const where = describeTarget(target)
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...settings.env?.(target),
    ...request.env,
    ROLLING_TARGET_ID: target.id,
    ROLLING_TARGET_ADDRESS: target.address,
    // Absent rather than inherited from the parent, which would name the wrong target.
    ROLLING_TARGET_PORT: target.port === undefined ? undefined : String(target.port),
  }
  if (env.ROLLING_TARGET_PORT === undefined) delete env.ROLLING_TARGET_PORT
  const started = performance.now()

  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(settings.shell, ['-s'], {
      cwd: request.cwd ?? settings.cwd?.(target),
      env,
      // Its own process group: killing -pid reaches the grandchildren too.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    // The command on stdin, not in argv: `ps` on the controller shows only `sh -s`. A shell
    // that exits before reading it all makes the write fail (EPIPE): 'close' reports the run.
    child.stdin.on('error', () => {})
    child.stdout.on('error', () => {})
    child.stderr.on('error', () => {})
    child.stdin.end(stdinScript(request.command))
    const stdout = new OutputStream('stdout', secrets, settings.maxOutputChars, ctx)
    const stderr = new OutputStream('stderr', secrets, settings.maxOutputChars, ctx)
    child.stdout.on('data', (chunk: Buffer) => stdout.write(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk))

    let failure: Error | undefined
    let killTimer: ReturnType<typeof setTimeout> | undefined
    let spawnError: Error | undefined
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        // ESRCH: the group is already gone.
      }
    }
    const stop = (reason: Error) => {
      if (failure) return
      failure = reason
      killGroup('SIGTERM')
      // Not cleared on close: a grandchild that ignores SIGTERM and closed its stdio
      // would otherwise outlive the run. Unref'd so it never holds the process open.
      killTimer = setTimeout(() => killGroup('SIGKILL'), settings.killGraceMs)
      killTimer.unref()
    }
    const timer =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            stop(new RollingError('EXEC_TIMEOUT', `[rolling:local] command on ${where} timed out after ${formatMs(request.timeoutMs ?? 0)}: ${shown}`))
          }, request.timeoutMs)
    const onAbort = () => stop(abortReason(ctx.signal))
    ctx.signal.addEventListener('abort', onAbort, { once: true })

    child.on('error', (error) => {
      // Spawn failures (missing shell or cwd); 'close' still follows.
      spawnError ??= error
    })
    // 'close' waits for the exit and for stdio to close, so nothing is left unreaped.
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
      stdout.end()
      stderr.end()
      if (failure) return reject(failure)
      if (spawnError) {
        const cwd = request.cwd ?? settings.cwd?.(target)
        return reject(
          new RollingError(
            'ADAPTER',
            `[rolling:local] cannot start ${settings.shell}${cwd ? ` in ${cwd}` : ''} for ${where}: ${maskSecrets(errorMessage(spawnError), secrets)}`,
            {
              cause: spawnError,
            },
          ),
        )
      }
      resolve({ exitCode: code, signal, stdout: stdout.text(), stderr: stderr.text(), durationMs: performance.now() - started })
    })
  })
}
