// The per-service lock that keeps two rollouts of one service from running at once.
// A lock file created atomically (open 'wx') holding its holder; a lock whose holder died
// is reported as stale but never taken over silently: breaking it is an explicit act.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { RollingError, ValidationError, errorMessage } from './errors.js'
import { STATE_FILE_MODE, makeStateDir } from './state-files.js'
import type { Clock } from './types.js'

export interface LockHolder {
  runId: string
  pid: number
  host: string
  /** ISO-8601 time the lock was taken. */
  since: string
  service: string
  /**
   * For a lock held by a lease (S3): ISO-8601 time the lease ends unless renewed. Past it, the
   * holder is dead or paused and the lock is stale. Set by `inspect`, not by the taker.
   */
  leaseUntil?: string
}

export interface LockLease {
  readonly holder: LockHolder
  /** Gives the lock back, unless someone broke it and took it meanwhile. Idempotent. */
  release(): Promise<void>
}

/** What the run taking a lock tells it. */
export interface AcquireOptions {
  /** The run's clock: a lock held by a lease (S3) renews it on this clock unless given its own. */
  clock?: Clock
}

export interface Lock {
  readonly location: string
  /** Takes the lock of `service`, or throws a `LockedError` naming the holder (and whether it is stale). */
  acquire(service: string, holder: LockHolder, options?: AcquireOptions): Promise<LockLease>
  /** Who holds the lock now, or undefined. */
  inspect(service: string): Promise<LockHolder | undefined>
  /** Removes the lock whoever holds it (explicit, for stale locks). Returns the holder it removed. */
  break(service: string): Promise<LockHolder | undefined>
}

/** `stale` when the holder is a dead process on this host, or the lock file is unreadable. */
export class LockedError extends RollingError {
  readonly holder: LockHolder
  readonly stale: boolean
  constructor(holder: LockHolder, stale: boolean, message: string) {
    super('LOCKED', message)
    this.name = 'LockedError'
    this.holder = holder
    this.stale = stale
  }
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const UNKNOWN = 'unknown'

/** A holder as read back: `corrupt` when the lock file was empty or unparseable. */
interface Found {
  holder: LockHolder
  corrupt: boolean
}

/** Locks as files `<dir>/<service>.lock`; works across processes of one machine (or a shared disk). */
export function fileLock(options: { dir: string }): Lock {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new ValidationError('dir', `expected a directory path, got ${JSON.stringify(options?.dir)}`)
  }
  const dir = path.resolve(options.dir)
  const fileOf = (service: string) => path.join(dir, `${validateService(service)}.lock`)

  async function find(service: string, settle: boolean): Promise<Found | undefined> {
    const file = fileOf(service)
    // An acquire that has created the file but not yet written it looks corrupt for a
    // moment; look again briefly before calling it a crash leftover.
    for (let attempt = 0; ; attempt++) {
      let text: string
      try {
        text = await fs.promises.readFile(file, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw ioError(`cannot read the lock ${file}`, error)
      }
      const holder = parseHolder(text, service)
      if (holder) return { holder, corrupt: false }
      if (!settle || attempt >= 3) return { holder: unknownHolder(service), corrupt: true }
      await delay(25)
    }
  }

  return {
    location: dir,
    async acquire(service, holder) {
      const file = fileOf(service)
      const mine: LockHolder = { ...holder, service }
      try {
        makeStateDir(dir)
      } catch (error) {
        throw ioError(`cannot create the lock directory ${dir}`, error)
      }
      // A few tries: the holder may release between our failed create and our read.
      for (let attempt = 0; attempt < 3; attempt++) {
        let handle: fs.promises.FileHandle
        try {
          handle = await fs.promises.open(file, 'wx', STATE_FILE_MODE)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`cannot create the lock ${file}`, error)
          const found = await find(service, true)
          if (found) throw lockedError(service, found, file)
          continue
        }
        try {
          await handle.chmod(STATE_FILE_MODE) // whatever the umask
          await handle.writeFile(JSON.stringify(mine))
          await handle.sync() // an empty lock file after a machine crash would read as stale
          await handle.close()
        } catch (error) {
          await handle.close().catch(() => {})
          await fs.promises.rm(file, { force: true })
          throw ioError(`cannot write the lock ${file}`, error)
        }
        return lease(mine, async () => {
          // Only our own lock: if it was broken and taken by another run, it is theirs now.
          const found = await find(service, false)
          if (found && !found.corrupt && found.holder.runId === mine.runId) await fs.promises.rm(file, { force: true })
        })
      }
      throw new RollingError('LOCKED', `[rolling] service ${service}: the lock ${file} keeps changing hands; try again`)
    },
    async inspect(service) {
      return (await find(service, true))?.holder
    },
    async break(service) {
      const found = await find(service, false)
      if (!found) return undefined
      await fs.promises.rm(fileOf(service), { force: true })
      return found.holder
    },
  }
}

/** Locks within this process, for tests and single-process embedding. */
export function memoryLock(): Lock {
  const held = new Map<string, LockHolder>()
  return {
    location: 'memory',
    async acquire(service, holder) {
      validateService(service)
      const current = held.get(service)
      if (current) throw lockedError(service, { holder: { ...current }, corrupt: false }, 'memory')
      const mine: LockHolder = { ...holder, service }
      held.set(service, mine)
      return lease(mine, async () => {
        if (held.get(service)?.runId === mine.runId) held.delete(service)
      })
    },
    async inspect(service) {
      validateService(service)
      const current = held.get(service)
      return current && { ...current }
    },
    async break(service) {
      validateService(service)
      const current = held.get(service)
      held.delete(service)
      return current
    },
  }
}

/**
 * Whether `pid` is a live process on this host. A zombie (exited, not yet reaped) is dead;
 * EPERM means it exists under another user. When unsure, says alive: a lock wrongly called
 * stale is worse than one a human has to look at.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return false
    if (code !== 'EPERM') return true
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name in parentheses may hold spaces and ')'; the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return true // no /proc (macOS): the signal probe is all we have
  }
}

function validateService(service: string): string {
  if (typeof service !== 'string' || !SERVICE.test(service) || service.length > 200) {
    throw new ValidationError(
      'service',
      `expected a name of letters, digits, '.', '_' or '-' starting with a letter or digit (it names a lock file), got ${JSON.stringify(service)}`,
    )
  }
  return service
}

function lease(holder: LockHolder, give: () => Promise<void>): LockLease {
  let released: Promise<void> | undefined
  return {
    holder,
    // Concurrent or repeated releases share one attempt; a failed one may be retried.
    release: () =>
      (released ??= give().catch((error: unknown) => {
        released = undefined
        throw error
      })),
  }
}

function lockedError(service: string, found: Found, location: string): LockedError {
  const { holder, corrupt } = found
  const who = `run ${holder.runId} (pid ${holder.pid > 0 ? holder.pid : UNKNOWN} on host ${holder.host}) since ${holder.since}`
  const howToBreak = `Break it with breakLock / \`rolling unlock ${service}\` if no rollout of ${service} is in progress.`
  if (corrupt) {
    return new LockedError(
      holder,
      true,
      `[rolling] service ${service} is locked by ${who}; the lock ${location} is empty or corrupt (a crash while taking it): the lock is stale. ${howToBreak}`,
    )
  }
  // A process on another host cannot be probed from here; only a human can tell it is gone.
  if (holder.host === os.hostname() && !isProcessAlive(holder.pid)) {
    return new LockedError(holder, true, `[rolling] service ${service} is locked by ${who}; that process is not running: the lock is stale. ${howToBreak}`)
  }
  return new LockedError(holder, false, `[rolling] service ${service} is already being rolled out by ${who}`)
}

function parseHolder(text: string, service: string): LockHolder | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Partial<Record<keyof LockHolder, unknown>>
  if (typeof v.runId !== 'string' || typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.since !== 'string') {
    return undefined
  }
  return { runId: v.runId, pid: v.pid, host: v.host, since: v.since, service: typeof v.service === 'string' ? v.service : service }
}

function unknownHolder(service: string): LockHolder {
  return { runId: UNKNOWN, pid: 0, host: UNKNOWN, since: UNKNOWN, service }
}

function ioError(message: string, cause: unknown): RollingError {
  return new RollingError('ADAPTER', `[rolling] ${message}: ${errorMessage(cause)}`, { cause })
}
