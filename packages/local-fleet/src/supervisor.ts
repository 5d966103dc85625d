// A tiny per-host supervisor, like systemd's Restart=always: runs `node current/app.mjs`
// as a child of this process and starts it again from `current` whenever it exits, so a
// deploy restarts the app with a plain SIGTERM. Children of this process are reaped by Node,
// which keeps zombies and orphans out of the fleet (PID 1 in containers reaps late).
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { systemClock } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'

/** One app process's life, as the supervisor saw it (times are epoch ms). */
export interface AppProcess {
  pid: number
  spawnedAt: number
  /** When it printed that it listens. */
  listeningAt?: number
  /** When it got SIGTERM (it says so before shutting down). */
  sigtermAt?: number
  exitedAt?: number
  exitCode?: number | null
  signal?: string | null
  /** Version it reported when it started listening. */
  version?: string
}

export interface SupervisorOptions {
  /** The host folder: `current/app.mjs` is run from here; `app.pid`, `app.log`, `stopped` live here. */
  dir: string
  host: string
  port: number
  /** Passed to the app as STARTUP_DELAY_MS (a release.json setting wins). */
  startupDelayMs?: number
  /** Time between SIGTERM and SIGKILL when the supervisor itself stops. @default 5000 */
  killGraceMs?: number
}

/** The marker the recipe's stop step writes: an app that exits while it exists stays down. */
export const STOPPED_FILE = 'stopped'
/** A runtime knob for failure tests: while this file exists in the host folder, the app's `_status` answers 500. */
export const UNHEALTHY_FILE = 'unhealthy'
export const PID_FILE = 'app.pid'
/** Where `current` pointed when the running app was started: `releases/<version>`. */
export const RELEASE_FILE = 'app.release'

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

export class Supervisor {
  readonly history: AppProcess[] = []
  private child: ChildProcess | undefined
  private readonly log: WriteStream
  private readonly halt = new AbortController()
  private crashes = 0
  private exited: Promise<void> = Promise.resolve()

  constructor(private readonly options: SupervisorOptions) {
    this.log = createWriteStream(join(options.dir, 'app.log'), { flags: 'a' })
    // A log that cannot be written (folder removed) must not bring the controller down.
    this.log.on('error', () => {})
  }

  /** Pid of the running app, if one runs now. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined
  }

  get stopped(): boolean {
    return this.halt.signal.aborted
  }

  start(): void {
    if (this.stopped || this.child) return
    const { dir, host, port } = this.options
    // What this process runs, for steps that restart only when `current` moved since.
    let release = ''
    try {
      release = readlinkSync(join(dir, 'current'))
    } catch {
      // No `current` yet: node fails to start and the crash back-off applies.
    }
    const child = spawn(process.execPath, [join(dir, 'current', 'app.mjs')], {
      cwd: dir,
      // A small environment on purpose: test runners put loaders in NODE_OPTIONS.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOST_DIR: dir,
        HOST: host,
        PORT: String(port),
        STARTUP_DELAY_MS: String(this.options.startupDelayMs ?? 0),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    if (child.pid === undefined) {
      // Spawn failed (error event follows); retry like a crash.
      child.once('error', (error) => this.log.write(`[supervisor] spawn failed: ${error.message}\n`))
      return void this.respawn(false)
    }
    const record: AppProcess = { pid: child.pid, spawnedAt: Date.now() }
    this.child = child
    this.history.push(record)
    // Written then renamed, so the deploy's `cat app.pid` never reads half a number.
    writeAtomic(join(dir, RELEASE_FILE), `${release}\n`)
    writeAtomic(join(dir, PID_FILE), `${child.pid}\n`)
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      this.log.write(chunk)
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) this.onLine(record, line)
    })
    child.stderr?.on('data', (chunk: Buffer) => this.log.write(chunk))
    let done!: () => void
    this.exited = new Promise<void>((resolve) => (done = resolve))
    child.once('exit', (code, signal) => {
      record.exitedAt = Date.now()
      record.exitCode = code
      record.signal = signal
      this.child = undefined
      this.removePidFile(record.pid)
      const crashed = code !== 0 && record.exitedAt - record.spawnedAt < 1000
      void this.respawn(crashed)
    })
    // After 'exit' and the last output: only then may the log be closed.
    child.once('close', () => done())
  }

  /** Stops supervising and ends the app: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.halt.abort()
    const child = this.child
    if (child) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.killGraceMs ?? 5000)
      await this.exited
      clearTimeout(timer)
    }
    await new Promise<void>((resolve) => this.log.end(resolve))
  }

  private onLine(record: AppProcess, line: string): void {
    let data: { event?: string; at?: number; version?: string }
    try {
      data = JSON.parse(line) as typeof data
    } catch {
      return
    }
    if (data.event === 'listening') {
      record.listeningAt = data.at ?? Date.now()
      if (data.version !== undefined) record.version = data.version
      this.crashes = 0
    }
    if (data.event === 'sigterm') record.sigtermAt = data.at ?? Date.now()
  }

  private async respawn(crashed: boolean): Promise<void> {
    const signal = this.halt.signal
    try {
      // A build that dies at boot must not spin the CPU: back off up to 2 s.
      if (crashed) await systemClock.sleep(Math.min(2000, 100 * 2 ** this.crashes++), signal)
      if (existsSync(join(this.options.dir, STOPPED_FILE))) {
        // Stopped by the recipe: stay down until a deploy removes the marker.
        await waitUntil(() => (existsSync(join(this.options.dir, STOPPED_FILE)) ? { state: 'retry' } : { state: 'done', value: true }), {
          what: `${this.options.dir}/${STOPPED_FILE} to go away`,
          // As long as a host may plausibly stay stopped; waitUntil wants a finite bound.
          timeoutMs: 7 * 24 * 3600_000,
          minDelayMs: 50,
          maxDelayMs: 250,
          signal,
        })
      }
    } catch (error) {
      if (!signal.aborted) this.log.write(`[supervisor] not restarting: ${(error as Error).message}\n`)
      return
    }
    if (!signal.aborted) this.start()
  }

  private removePidFile(pid: number): void {
    const file = join(this.options.dir, PID_FILE)
    try {
      if (readFileSync(file, 'utf8').trim() === String(pid)) rmSync(file)
    } catch {
      // Already gone.
    }
  }
}
