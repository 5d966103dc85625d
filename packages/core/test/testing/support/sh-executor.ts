// A minimal real executor (`sh -c` on this machine) used only to prove that the
// Executor contract suite passes a correct executor; the shipped local executor lives
// in src/local and runs the same suite in its own test.
import { spawn } from 'node:child_process'
import type { Executor, ExecRequest } from '../../../src/types.js'
import { abortReason, RollingError } from '../../../src/errors.js'
import { maskSecrets } from '../../../src/shell.js'

export function shExecutor(): Executor {
  return {
    name: 'sh',
    run(_target, input, ctx) {
      const request: ExecRequest = typeof input === 'string' ? { command: input } : input
      if (ctx.signal.aborted) return Promise.reject(abortReason(ctx.signal))
      const started = Date.now()
      return new Promise((resolve, reject) => {
        // Own process group, so a kill reaches `sleep` and not only the shell.
        const child = spawn('sh', ['-c', request.command], {
          env: { ...process.env, ...request.env },
          cwd: request.cwd,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let failure: Error | undefined
        const kill = (error: Error) => {
          failure ??= error
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL')
          } catch {}
        }
        const timer =
          request.timeoutMs === undefined
            ? undefined
            : setTimeout(() => kill(new RollingError('EXEC_TIMEOUT', `[rolling:sh] timed out after ${request.timeoutMs}ms`)), request.timeoutMs)
        const onAbort = () => kill(abortReason(ctx.signal))
        ctx.signal.addEventListener('abort', onAbort, { once: true })
        const out = { stdout: '', stderr: '' }
        for (const stream of ['stdout', 'stderr'] as const) {
          child[stream].setEncoding('utf8').on('data', (chunk: string) => {
            const masked = maskSecrets(chunk, request.secrets)
            out[stream] += masked
            ctx.output?.(stream, masked)
          })
        }
        child.on('error', (error) => kill(error))
        child.on('close', (code, signal) => {
          clearTimeout(timer)
          ctx.signal.removeEventListener('abort', onAbort)
          if (failure) reject(failure)
          else resolve({ exitCode: code, signal, ...out, durationMs: Date.now() - started })
        })
      })
    },
  }
}
