// A private HAProxy for the local fleet, the demo and tests: writes a config with an
// admin stats socket and HTTP health checks, runs `haproxy -db -f cfg` as a child of this
// Node process (so Node reaps it), and resolves once the runtime API answers.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, createWriteStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { HaproxyError } from './errors.js'
import { runtimeApi } from './runtime-api.js'

export interface HaproxyServerSpec {
  name: string
  address: string
  port: number
}

export interface StartHaproxyOptions {
  /** Holds haproxy.cfg, the admin socket (admin.sock) and haproxy.log. Created if missing. */
  dir: string
  /** Where clients connect. HAProxy cannot bind port 0: pass a free port (see `freePort`). */
  frontend: { address: string; port: number }
  /** The first is the frontend's default_backend. */
  backends: { name: string; servers: HaproxyServerSpec[] }[]
  check?: {
    /** @default '/_status' */
    path?: string
    /** @default 500 */
    interMs?: number
    /** @default 2 */
    rise?: number
    /** @default 2 */
    fall?: number
  }
  /**
   * Connection retries. 0 makes a restart without drain show up as failed requests
   * instead of being hidden as latency, which is what a zero-downtime test needs.
   * @default 0
   */
  retries?: number
  /** @default { connectMs: 2000, clientMs: 30_000, serverMs: 30_000 } */
  timeouts?: { connectMs?: number; clientMs?: number; serverMs?: number }
  /** @default 'roundrobin' */
  balance?: 'roundrobin' | 'leastconn'
  /** Extra raw lines for the `global` section, e.g. a second `stats socket`. */
  global?: string[]
  /** @default findHaproxy() */
  bin?: string
  /** @default 10_000 */
  startTimeoutMs?: number
}

export interface HaproxyProcess {
  /** The admin runtime API socket path. */
  socket: string
  pid: number
  frontend: { address: string; port: number }
  configPath: string
  logPath: string
  /** SIGTERM (or SIGUSR1, a soft stop that lets sessions finish, when `graceful`), then waits for exit. */
  stop(options?: { graceful?: boolean }): Promise<void>
}

/** The haproxy binary on PATH, or in /usr/sbin or /usr/local/sbin (not on a user's PATH on Debian). */
export function findHaproxy(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    const candidate = path.join(dir, 'haproxy')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** A port free on `address` right now (the OS picks it); HAProxy itself cannot bind port 0. */
export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`)
const NAME = /^[A-Za-z0-9_.:-]+$/

/** The haproxy.cfg `startHaproxy` writes; exported so tests and docs can show it. */
export function renderHaproxyConfig(options: StartHaproxyOptions, socket: string): string {
  const check = { path: '/_status', interMs: 500, rise: 2, fall: 2, ...options.check }
  const t = { connectMs: 2000, clientMs: 30_000, serverMs: 30_000, ...options.timeouts }
  const retries = options.retries ?? 0
  const [first] = options.backends
  if (!first) throw new HaproxyError('process', 'startHaproxy needs at least one backend')
  for (const name of [...options.backends.map((b) => b.name), ...options.backends.flatMap((b) => b.servers.map((s) => s.name))]) {
    if (!NAME.test(name)) throw new HaproxyError('process', `invalid HAProxy name ${JSON.stringify(name)}: use letters, digits, '-', '_', '.', ':'`)
  }
  if (/\s/.test(check.path)) throw new HaproxyError('process', `invalid health check path ${JSON.stringify(check.path)}`)
  const lines = [
    '# Written by @org/rolling-haproxy startHaproxy(); rewritten on every start.',
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    // Without it, HAProxy binds a port another process (a leaked HAProxy) holds, via
    // SO_REUSEPORT, and the two silently share the traffic; with it, the start fails.
    '  noreuseport',
    ...(options.global ?? []).map((line) => `  ${line}`),
    '',
    'defaults',
    '  mode http',
    `  timeout connect ${t.connectMs}ms`,
    `  timeout client ${t.clientMs}ms`,
    `  timeout server ${t.serverMs}ms`,
    `  retries ${retries}`,
    // Redispatch only acts on the last retry: with retries 0 it would do nothing.
    ...(retries > 0 ? ['  option redispatch'] : []),
    // One server connection per request: with retries 0, reusing an idle keep-alive
    // connection the app is closing at that moment would fail a request for no deploy reason.
    '  option http-server-close',
    '',
    'frontend fe',
    `  bind ${hostPort(options.frontend.address, options.frontend.port)}`,
    `  default_backend ${first.name}`,
    '',
  ]
  for (const backend of options.backends) {
    lines.push(
      `backend ${backend.name}`,
      `  balance ${options.balance ?? 'roundrobin'}`,
      `  option httpchk GET ${check.path}`,
      '  http-check expect status 200',
      `  default-server check inter ${check.interMs}ms rise ${check.rise} fall ${check.fall}`,
      ...backend.servers.map((s) => `  server ${s.name} ${hostPort(s.address, s.port)}`),
      '',
    )
  }
  return lines.join('\n')
}

// Children still running when this process exits are killed, so a crashed test run
// leaves no HAProxy holding its ports.
// Registered on first start, not at import, so importing the package has no side effect.
const running = new Set<ChildProcess>()
let exitHook = false
const killOnExit = (child: ChildProcess) => {
  running.add(child)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const each of running) each.kill('SIGKILL')
  })
}

export async function startHaproxy(options: StartHaproxyOptions): Promise<HaproxyProcess> {
  const bin = options.bin ?? findHaproxy()
  if (!bin) throw new HaproxyError('process', 'haproxy is not installed (looked on PATH, /usr/sbin, /usr/local/sbin): apt-get install -y haproxy')
  const dir = path.resolve(options.dir)
  const socket = path.join(dir, 'admin.sock')
  // sun_path holds 108 bytes; a longer path fails inside HAProxy with a vaguer message.
  if (Buffer.byteLength(socket) > 100) throw new HaproxyError('process', `the socket path ${socket} is too long for a unix socket: use a shorter dir`)
  const configPath = path.join(dir, 'haproxy.cfg')
  const logPath = path.join(dir, 'haproxy.log')
  await mkdir(dir, { recursive: true })
  // A stale socket could answer for an old HAProxy and make a failed start look ready.
  await rm(socket, { force: true })
  await writeFile(configPath, renderHaproxyConfig(options, socket))

  const child = spawn(bin, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  killOnExit(child)
  const log = createWriteStream(logPath, { flags: 'a' })
  // A failed log write (folder removed, disk full) must not end the process: the tail is kept in memory.
  log.on('error', () => {})
  let tail = ''
  const collect = (chunk: Buffer) => {
    log.write(chunk)
    tail = (tail + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal }
      running.delete(child)
      log.end()
      resolve()
    }
    child.once('exit', done)
    // Spawning itself failed (ENOENT, EACCES): no 'exit' follows.
    // \`on\`, not \`once\`: a child may emit 'error' again (a kill that fails) after the first.
    child.on('error', (error) => {
      spawnError ??= error
      done(null, null)
    })
  })

  const api = runtimeApi(socket, { timeoutMs: 1000 })
  const timeoutMs = options.startTimeoutMs ?? 10_000
  const started = Date.now()
  for (;;) {
    if (exit) {
      const how = spawnError ? `could not start: ${spawnError.message}` : `exited (${exit.signal ?? `code ${exit.code}`})`
      throw new HaproxyError('process', `haproxy (${bin} -db -f ${configPath}) ${how} before its runtime API answered: ${tail.trim() || 'no output'}`, {
        cause: spawnError,
      })
    }
    const ready = await api.send('show info').then(
      (answer) => answer.includes('Pid:'),
      () => false,
    )
    if (ready) break
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL')
      await exited
      throw new HaproxyError('process', `haproxy did not answer on ${socket} within ${timeoutMs}ms: ${tail.trim() || 'no output'}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  return {
    socket,
    pid: child.pid as number,
    frontend: { ...options.frontend },
    configPath,
    logPath,
    async stop({ graceful = false } = {}) {
      if (exit) return
      // SIGUSR1 is HAProxy's soft stop: it closes listeners and waits for sessions; bound it.
      child.kill(graceful ? 'SIGUSR1' : 'SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceful ? 30_000 : 5000)
      await exited
      clearTimeout(timer)
    },
  }
}
