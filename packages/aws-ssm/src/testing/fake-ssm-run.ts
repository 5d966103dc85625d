// One invocation of the fake SSM: `/bin/sh -c <script>` in the host's folder, with SSM's
// execution timeout, its 24,000-character cap on each stream, and its statuses at the end.
import { type ChildProcess, spawn } from 'node:child_process'

export const OUTPUT_LIMIT = 24_000

export interface FakeInvocation {
  commandId: string
  instanceId: string
  script: string
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'Cancelled' | 'TimedOut'
  statusDetails: string
  responseCode: number
  stdout: string
  stderr: string
  pid?: number
  /** When GetCommandInvocation starts to know it (eventual consistency). */
  visibleAt: number
  startedAt?: number
  endedAt?: number
  /** Set when CancelCommand or the execution timeout killed the process. */
  killedBy?: 'cancel' | 'timeout'
  exited: Promise<void>
}

export function runInvocation(
  children: Set<ChildProcess>,
  registerDelayMs: number,
  commandId: string,
  instanceId: string,
  script: string,
  cwd: string,
  timeoutSec: number,
  env: Record<string, string> = {},
): FakeInvocation {
  let done!: () => void
  const inv: FakeInvocation = {
    commandId,
    instanceId,
    script,
    status: 'Pending',
    statusDetails: 'Pending',
    responseCode: -1,
    stdout: '',
    stderr: '',
    visibleAt: Date.now() + registerDelayMs,
    exited: new Promise<void>((resolve) => (done = resolve)),
  }
  const child = spawn('/bin/sh', ['-c', script], {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, PATH: process.env.PATH, HOME: cwd },
  })
  children.add(child)
  inv.pid = child.pid
  inv.status = 'InProgress'
  inv.statusDetails = 'InProgress'
  inv.startedAt = Date.now()
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.on('data', (c: Buffer) => err.push(c))
  const timer = setTimeout(() => {
    inv.killedBy ??= 'timeout'
    kill(child, 'SIGKILL')
  }, timeoutSec * 1000)
  let spawnError: Error | undefined
  child.on('error', (e) => (spawnError = e))
  child.on('close', (code, signal) => {
    clearTimeout(timer)
    children.delete(child)
    inv.endedAt = Date.now()
    // SSM returns the first 24,000 characters of each stream.
    inv.stdout = Buffer.concat(out).toString('utf8').slice(0, OUTPUT_LIMIT)
    inv.stderr = (spawnError ? `${spawnError.message}\n` : '') + Buffer.concat(err).toString('utf8').slice(0, OUTPUT_LIMIT)
    if (inv.killedBy === 'cancel') Object.assign(inv, { status: 'Cancelled', statusDetails: 'Cancelled', responseCode: -1 })
    else if (inv.killedBy === 'timeout') Object.assign(inv, { status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1 })
    else {
      const rc = spawnError ? 1 : (code ?? 128 + signalNumber(signal))
      Object.assign(inv, { status: rc === 0 ? 'Success' : 'Failed', statusDetails: rc === 0 ? 'Success' : 'Failed', responseCode: rc })
    }
    done()
  })
  return inv
}

export function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1
}
