// A private OpenSSH server for the tests: its own config, host key, client key and pid
// file in a temp folder, started as `/usr/sbin/sshd -D -e -f <cfg>` on a free port. Its log
// (stderr, LogLevel VERBOSE) is kept so tests can count connections and logins.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const SSHD = '/usr/sbin/sshd'
/** Why sshd tests cannot run here, or undefined when they can. */
export const sshdMissing: string | undefined = existsSync(SSHD) ? undefined : `${SSHD} not found (apt-get install -y openssh-server)`
/** CI installs openssh-server: there a missing sshd must fail the run, never skip it. */
export const sshdRequired = process.env.CI === 'true'

/** Fails when CI asks for these tests and sshd is absent; true when the suite should be skipped. */
export function skipWithoutSshd(): boolean {
  if (sshdMissing && sshdRequired) throw new Error(`CI=true but the sshd tests cannot run: ${sshdMissing}`)
  if (sshdMissing) console.warn(`[rolling:ssh] skipping sshd tests: ${sshdMissing}`)
  return sshdMissing !== undefined
}

export interface Sshd {
  dir: string
  port: number
  /** Where it listens: 0.0.0.0 (any 127.x reaches it) or one address. */
  listen: string
  /** The client key authorised for root. */
  clientKey: string
  clientKeyFile: string
  /** `ssh-ed25519 AAAA...` of the server's host key. */
  hostKeyPub: string
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  fingerprint: string
  /** Everything sshd logged so far. */
  log(): string
  /** Logins ("Accepted publickey" lines). */
  logins(): number
  /** TCP connections accepted on `address` (LogLevel VERBOSE "Connection from ... on <address> port <port>"). */
  connectionsTo(address: string): number
  /** known_hosts line(s) for `addresses` at this server's port. */
  knownHosts(addresses: readonly string[]): string
  pid: number
  stop(): Promise<void>
}

export interface SshdOptions {
  /** @default '0.0.0.0' */
  listen?: string
  /** Reuse this client key (one key for several servers). */
  clientKeyFile?: string
  /** Extra sshd_config lines. */
  extra?: string[]
  /** Listen on this port (one try). @default a free port */
  port?: number
  /** Use this host key (and its .pub) instead of a new one. */
  hostKeyFile?: string
}

export async function keygen(file: string, passphrase = ''): Promise<{ key: string; pub: string }> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'rolling-test', '-f', file])
  return { key: await readFile(file, 'utf8'), pub: (await readFile(`${file}.pub`, 'utf8')).trim() }
}

export async function fingerprintOf(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile])
  const found = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)
  if (!found) throw new Error(`no fingerprint in ssh-keygen output: ${stdout}`)
  return found[0]
}

export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  // sshd running as root insists on its privilege separation folder (a compile-time path);
  // Debian's service unit creates it, a private sshd has to.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 })
  const dir = await mkdtemp(join(tmpdir(), 'rolling-sshd-'))
  const listen = options.listen ?? '0.0.0.0'
  const hostKeyFile = options.hostKeyFile ?? join(dir, 'host_ed25519')
  const host = options.hostKeyFile ? { pub: (await readFile(`${hostKeyFile}.pub`, 'utf8')).trim() } : await keygen(hostKeyFile)
  const clientKeyFile = options.clientKeyFile ?? join(dir, 'client_ed25519')
  if (!options.clientKeyFile) await keygen(clientKeyFile)
  const clientKey = await readFile(clientKeyFile, 'utf8')
  const authorized = join(dir, 'authorized_keys')
  await writeFile(authorized, await readFile(`${clientKeyFile}.pub`, 'utf8'), { mode: 0o600 })
  const fingerprint = await fingerprintOf(`${hostKeyFile}.pub`)

  // A port can be taken between the probe and sshd's bind: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(listen === '0.0.0.0' ? '127.0.0.1' : listen))
    const config = join(dir, 'sshd_config')
    await writeFile(
      config,
      [
        `Port ${port}`,
        `ListenAddress ${listen}`,
        `HostKey ${hostKeyFile}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorized}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        'MaxStartups 100:30:200',
        'MaxSessions 20',
        'AllowTcpForwarding yes',
        // Debian's default (/usr/lib/openssh/sftp-server) would also work; internal needs no binary.
        'Subsystem sftp internal-sftp',
        // bash, root's login shell here, sources ~/.bashrc for commands sent over ssh unless it is
        // nested (SHLVL >= 1); this machine's ~/.bashrc runs `pyenv init` (~1 s per command).
        'SetEnv SHLVL=1',
        ...(options.extra ?? []),
        '',
      ].join('\n'),
    )
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8')
    })
    const ready = await waitListening(child, () => log)
    if (ready !== true) {
      if (attempt < 5 && options.port === undefined && /Address already in use/.test(log)) continue
      await rm(dir, { recursive: true, force: true })
      throw new Error(`sshd did not start: ${ready}\n${log}`)
    }
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    }
    return {
      dir,
      port,
      listen,
      clientKey,
      clientKeyFile,
      hostKeyPub: host.pub.split(' ').slice(0, 2).join(' '),
      fingerprint,
      log: () => log,
      logins: () => log.split('\n').filter((l) => l.includes('Accepted publickey')).length,
      connectionsTo: (address) => log.split('\n').filter((l) => l.includes('Connection from') && l.includes(` on ${address} port ${port}`)).length,
      knownHosts: (addresses) => addresses.map((a) => `[${a}]:${port} ${host.pub.split(' ').slice(0, 2).join(' ')}`).join('\n'),
      pid: child.pid ?? 0,
      stop,
    }
  }
}

/** Resolves true once sshd logs that it listens (it binds before it says so), or a reason once it exits or 10 s pass. */
async function waitListening(child: ChildProcess, log: () => string): Promise<true | string> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (log().includes('Server listening on')) return true
    if (child.exitCode !== null || child.signalCode !== null) return `exited with ${child.exitCode ?? child.signalCode}`
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  child.kill('SIGKILL')
  return 'not listening after 10 s'
}
