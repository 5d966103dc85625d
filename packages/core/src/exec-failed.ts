// The error of a command that exited non-zero: the command (secrets masked, shortened),
// the target, the exit code or signal, and the last lines it printed.
import type { ExecRequest, ExecResult, Target } from './types.js'
import { RollingError, describeTarget } from './errors.js'
import { maskSecrets } from './shell.js'

export function execFailed(executor: string, target: Target, request: string | ExecRequest, result: ExecResult): RollingError {
  const req = typeof request === 'string' ? { command: request } : request
  const command = maskSecrets(req.command, req.secrets)
  const shown = command.length > 120 ? `${command.slice(0, 117)}...` : command
  const how = result.exitCode === null ? `signal ${result.signal}` : `exit code ${result.exitCode}`
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ')
  return new RollingError('EXEC_FAILED', `[rolling:${executor}] \`${shown}\` failed on ${describeTarget(target)} with ${how}${tail ? `: ${tail}` : ''}`)
}
