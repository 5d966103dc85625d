// The command line sent to sshd and the script sent on the channel's stdin. sshd hands the
// line to the login shell, whatever that is: `exec /bin/sh -s` (or `exec sudo -n -- /bin/sh
// -s`), a POSIX shell on every host that reads the script (env, cwd, command) from stdin,
// so no value of it (a token, a presigned URL) shows in `ps` on the host.
import { ValidationError, shellQuote, type ExecRequest, type Target } from '@org/rolling-core'
import { stdinScript } from '@org/rolling-core/adapter'

export interface CommandSettings {
  shell: string
  sudo: false | { user?: string }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The script run on the host: exports, `cd`, then the command, each on its own line. */
export function remoteScript(target: Target, request: ExecRequest): string {
  const env: Record<string, string> = {
    ROLLING_TARGET_ID: target.id,
    ROLLING_TARGET_ADDRESS: target.address,
    ...(target.port === undefined ? {} : { ROLLING_TARGET_PORT: String(target.port) }),
    ...request.env,
  }
  const lines: string[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new ValidationError('env', `expected variable names of letters, digits and _, got ${JSON.stringify(name)}`)
    // sshd only passes variables listed in AcceptEnv: exported inside the script instead.
    lines.push(`export ${name}=${shellQuote(String(value))}`)
  }
  // On its own line: `cd x && a; b` would still run b in the wrong folder.
  if (request.cwd !== undefined) lines.push(`cd -- ${shellQuote(request.cwd)} || exit 1`)
  lines.push(request.command)
  return lines.join('\n')
}

/**
 * The first line the command writes to stderr: the id of its process group, so a timeout or
 * an abort can signal every process it started. sshd gives each session its own group, but
 * refuses SSH signal requests for root logins; a `kill` on a second channel always works.
 * The executor strips this line from the output.
 */
export const PGID_MARKER = '@@rolling-pgid='
const PGID_LINE = new RegExp(`^${PGID_MARKER}(\\d+)@@\n`)

/** Reads the marker line at the start of stderr: the group id and the length to strip. */
export function readPgidMarker(text: string): { pgid: number; length: number } | undefined {
  const found = PGID_LINE.exec(text)
  return found ? { pgid: Number(found[1]), length: found[0].length } : undefined
}

/** The command line and the script for its stdin: run by `shell`, through sudo when asked. */
export function remoteCommand(target: Target, request: ExecRequest, settings: CommandSettings): { line: string; script: string } {
  // The login shell execs `shell`, which keeps the session leader's pid: $$ is the group id.
  // Under sudo, `shell` is sudo's child and sudo (the leader) is $PPID.
  const leader = settings.sudo === false ? '$$' : '$PPID'
  return { line: wrap(settings, '-s'), script: stdinScript(`printf '%s\\n' "${PGID_MARKER}${leader}@@" >&2\n${remoteScript(target, request)}`) }
}

/** A command line that sends `signal` to a process group (from the marker) on the host. */
export function signalCommand(pgid: number, signal: 'TERM' | 'KILL', settings: CommandSettings): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new ValidationError('pgid', `expected a process group id > 1, got ${pgid}`)
  // No secret in it: fine as an argument.
  return wrap(settings, '-c', `kill -s ${signal} -- -${pgid} 2>/dev/null || kill -s ${signal} ${pgid} 2>/dev/null || true`)
}

function wrap(settings: CommandSettings, mode: '-s' | '-c', script?: string): string {
  const args = script === undefined ? mode : `${mode} ${shellQuote(script)}`
  if (settings.sudo === false) return `exec ${settings.shell} ${args}`
  // -n: fail at once instead of waiting for a password prompt nobody will answer.
  const user = settings.sudo.user === undefined ? '' : ` -u ${shellQuote(settings.sudo.user)}`
  return `exec sudo -n${user} -- ${settings.shell} ${args}`
}
