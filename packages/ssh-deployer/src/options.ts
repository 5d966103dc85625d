// Options of sshExecutor: their types with defaults, the one validation pass, and how a
// target maps to an endpoint (host, port, user, credentials, bastion). Target.port is the
// application's port, never the SSH port: that comes from labels or these options.
import { readFileSync } from 'node:fs'
// ssh2 is CommonJS: Node's ESM loader only sees the names its lexer finds (`Client` yes,
// `utils` no), so `import { utils }` fails outside a bundler. The default import always works.
import ssh2 from 'ssh2'
import { ValidationError, type Target } from '@org/rolling-core'
import { checkMs } from '@org/rolling-core/adapter'
import type { HostKeyPolicy } from './host-keys.js'

/** Credentials: a private key (text or file, optionally encrypted) and/or an SSH agent. */
export interface Credentials {
  /** Private key text (OpenSSH or PEM). */
  privateKey?: string | Buffer
  /** Private key file, read once at setup. */
  privateKeyPath?: string
  /** Passphrase of an encrypted private key. */
  passphrase?: string
  /** SSH agent socket. @example process.env.SSH_AUTH_SOCK */
  agent?: string
}

/** A jump host (ProxyJump): the executor logs in there and opens a direct-tcpip channel to the target. */
export interface BastionOptions extends Credentials {
  host: string
  /** @default 22 */
  port?: number
  /** @default the executor's `username` */
  username?: string
}

export type PerTarget<T> = T | ((target: Target) => T)

export interface SshExecutorOptions extends Credentials {
  /**
   * Login name. The label `ssh.user` of a target wins.
   * @default process.env.USER, else 'root'
   */
  username?: PerTarget<string>
  /** SSH port. The label `ssh.port` of a target wins. @default 22 */
  port?: PerTarget<number>
  /** Host to dial. The label `ssh.host` of a target wins. @default target.address */
  host?: (target: Target) => string
  /**
   * Host key checking; strict unless `'insecure-accept-any'` is given (which warns).
   * @default { knownHosts: '~/.ssh/known_hosts' }
   */
  hostKeys?: HostKeyPolicy
  /** Reach targets through a jump host; a function may pick one per target (or none). */
  bastion?: BastionOptions | ((target: Target) => BastionOptions | undefined)
  /** Run every command as root (or `user`) through `sudo -n -- sh -c <command>`. @default false */
  sudo?: boolean | { user?: string }
  /** TCP connect + handshake + authentication of one attempt. @default 10_000 */
  connectTimeoutMs?: number
  /** Retries of a failed connection attempt (never of a command), with backoff. @default { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 2000 } */
  retry?: { retries?: number; minTimeoutMs?: number; maxTimeoutMs?: number }
  /** Time limit of a command without its own `timeoutMs`. @default none (the step's deadline applies) */
  commandTimeoutMs?: number
  /** Keepalive probe interval of pooled connections. @default 15_000 */
  keepaliveIntervalMs?: number
  /** Unanswered keepalives before a connection counts as dead. @default 3 */
  keepaliveCountMax?: number
  /** A pooled connection unused this long is closed (it reconnects when needed). @default 300_000 */
  idleTimeoutMs?: number
  /** Connections being set up at once (handshakes are CPU-heavy on both sides). @default 16 */
  concurrency?: number
  /** Commands (channels) open at once on one connection; sshd allows 10 by default. @default 8 */
  maxChannels?: number
  /** After TERM on timeout or abort, wait this long before KILL and closing the channel. @default 2000 */
  killGraceMs?: number
  /** Characters of stdout and of stderr kept in a result (the last ones). @default 1048576 */
  maxOutputChars?: number
  /** Shell that runs each command on the host. @default '/bin/sh' */
  shell?: string
}

export interface Settings {
  username: PerTarget<string>
  port: PerTarget<number>
  host: (target: Target) => string
  credentials: ResolvedCredentials
  hostKeys: HostKeyPolicy
  bastion: SshExecutorOptions['bastion']
  sudo: false | { user?: string }
  connectTimeoutMs: number
  retry: { retries: number; minTimeoutMs: number; maxTimeoutMs: number }
  commandTimeoutMs: number | undefined
  keepaliveIntervalMs: number
  keepaliveCountMax: number
  idleTimeoutMs: number
  concurrency: number
  maxChannels: number
  killGraceMs: number
  maxOutputChars: number
  shell: string
}

export interface ResolvedCredentials {
  privateKey?: string | Buffer
  passphrase?: string
  agent?: string
}

/** Where one connection goes. `key` identifies it in the pool. */
export interface Endpoint {
  key: string
  host: string
  port: number
  username: string
  credentials: ResolvedCredentials
  via?: Endpoint
}

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? `'${value}'` : typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value))
  throw new ValidationError(option, `expected ${expected}, got ${shown}`)
}

/** A duration that ends in a timer: the core's check, which also refuses one above Node's timer ceiling. */
function ms(option: string, value: number | undefined, fallback: number, min = 1): number {
  return value === undefined ? fallback : checkMs(option, value, { min })
}

function int(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min) fail(option, `an integer >= ${min}`, value)
  return value
}

const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

export function resolveCredentials(prefix: string, options: Credentials, fallback?: ResolvedCredentials): ResolvedCredentials {
  let privateKey = options.privateKey
  if (options.privateKeyPath !== undefined) {
    if (typeof options.privateKeyPath !== 'string' || options.privateKeyPath === '') fail(`${prefix}privateKeyPath`, 'a file path', options.privateKeyPath)
    try {
      privateKey = readFileSync(options.privateKeyPath)
    } catch (error) {
      throw new ValidationError(`${prefix}privateKeyPath`, `cannot read ${options.privateKeyPath}: ${(error as Error).message}`)
    }
  }
  if (privateKey !== undefined && !(typeof privateKey === 'string' || Buffer.isBuffer(privateKey)))
    fail(`${prefix}privateKey`, 'a key as text or a Buffer', privateKey)
  if (privateKey !== undefined) {
    // Parsed (and decrypted) now: a wrong passphrase fails at setup, not at the first host.
    const parsed = ssh2.utils.parseKey(privateKey, options.passphrase)
    if (parsed instanceof Error) {
      throw new ValidationError(`${prefix}${options.passphrase === undefined ? 'privateKey' : 'passphrase'}`, `cannot use the private key: ${parsed.message}`)
    }
  }
  if (options.agent !== undefined && (typeof options.agent !== 'string' || options.agent === '')) fail(`${prefix}agent`, 'an agent socket path', options.agent)
  const own: ResolvedCredentials = {
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.agent === undefined ? {} : { agent: options.agent }),
  }
  if (own.privateKey === undefined && own.agent === undefined) return fallback ?? own
  return own
}

/** Validates once, fills defaults; the caller's object is not touched. */
export function resolveOptions(options: SshExecutorOptions): Settings {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options)
  const credentials = resolveCredentials('', options)
  // The agent of the session is the usual way to log in from a laptop; used only when nothing is named.
  if (credentials.privateKey === undefined && credentials.agent === undefined) {
    if (process.env.SSH_AUTH_SOCK) credentials.agent = process.env.SSH_AUTH_SOCK
    else fail('privateKey', 'a private key (`privateKey` or `privateKeyPath`) or an SSH agent (`agent`), and SSH_AUTH_SOCK is not set', undefined)
  }
  const username = options.username ?? process.env.USER ?? 'root'
  if (typeof username === 'string' && !USER.test(username)) fail('username', 'a login name', username)
  if (typeof username !== 'string' && typeof username !== 'function') fail('username', 'a login name or a function of the target', username)
  const port = options.port ?? 22
  if (typeof port === 'number' && !(Number.isInteger(port) && port > 0 && port < 65536)) fail('port', 'a port from 1 to 65535', port)
  if (typeof port !== 'number' && typeof port !== 'function') fail('port', 'a port or a function of the target', port)
  if (options.host !== undefined && typeof options.host !== 'function') fail('host', 'a function of the target', options.host)
  const hostKeys = options.hostKeys ?? {}
  if (hostKeys !== 'insecure-accept-any' && (typeof hostKeys !== 'object' || hostKeys === null)) {
    fail('hostKeys', "{ knownHosts, knownHostsText, fingerprints } or 'insecure-accept-any'", hostKeys)
  }
  if (typeof hostKeys === 'object') {
    for (const f of hostKeys.fingerprints === undefined ? [] : Object.values(hostKeys.fingerprints).flat()) {
      if (typeof f !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(f.trim()))
        fail('hostKeys.fingerprints', "fingerprints like 'SHA256:<43 base64 characters>'", f)
    }
  }
  const bastion = options.bastion
  if (bastion !== undefined && typeof bastion !== 'function') checkBastion(bastion)
  const sudo = options.sudo === undefined || options.sudo === false ? false : options.sudo === true ? {} : options.sudo
  if (sudo !== false) {
    if (typeof sudo !== 'object' || sudo === null) fail('sudo', 'a boolean or { user }', options.sudo)
    if (sudo.user !== undefined && !USER.test(sudo.user)) fail('sudo.user', 'a user name', sudo.user)
  }
  const shell = options.shell ?? '/bin/sh'
  if (typeof shell !== 'string' || !/^\/[A-Za-z0-9._/-]+$/.test(shell)) fail('shell', 'an absolute path', shell)
  const retry = options.retry ?? {}
  return {
    username,
    port,
    host: options.host ?? ((t) => t.address),
    credentials,
    hostKeys,
    bastion,
    sudo,
    connectTimeoutMs: ms('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    retry: {
      retries: int('retry.retries', retry.retries, 3, 0),
      minTimeoutMs: ms('retry.minTimeoutMs', retry.minTimeoutMs, 200, 0),
      maxTimeoutMs: ms('retry.maxTimeoutMs', retry.maxTimeoutMs, 2000, 0),
    },
    commandTimeoutMs: options.commandTimeoutMs === undefined ? undefined : ms('commandTimeoutMs', options.commandTimeoutMs, 0),
    keepaliveIntervalMs: ms('keepaliveIntervalMs', options.keepaliveIntervalMs, 15_000),
    keepaliveCountMax: int('keepaliveCountMax', options.keepaliveCountMax, 3, 1),
    idleTimeoutMs: ms('idleTimeoutMs', options.idleTimeoutMs, 300_000),
    concurrency: int('concurrency', options.concurrency, 16, 1),
    maxChannels: int('maxChannels', options.maxChannels, 8, 1),
    killGraceMs: ms('killGraceMs', options.killGraceMs, 2000, 0),
    maxOutputChars: int('maxOutputChars', options.maxOutputChars, 1024 * 1024, 0),
    shell,
  }
}

function checkBastion(bastion: BastionOptions): void {
  if (typeof bastion !== 'object' || bastion === null || typeof bastion.host !== 'string' || bastion.host === '')
    fail('bastion', '{ host, port?, username? }', bastion)
  if (bastion.port !== undefined && !(Number.isInteger(bastion.port) && bastion.port > 0 && bastion.port < 65536))
    fail('bastion.port', 'a port from 1 to 65535', bastion.port)
  if (bastion.username !== undefined && !USER.test(bastion.username)) fail('bastion.username', 'a login name', bastion.username)
}

const pick = <T>(value: PerTarget<T>, target: Target): T => (typeof value === 'function' ? (value as (t: Target) => T)(target) : value)

/** The endpoint (and bastion hop) of a target. Labels `ssh.host`, `ssh.port`, `ssh.user` win over options. */
export function endpointOf(target: Target, settings: Settings): Endpoint {
  const labels = target.labels ?? {}
  const host = labels['ssh.host'] ?? settings.host(target)
  const port = labels['ssh.port'] === undefined ? pick(settings.port, target) : Number(labels['ssh.port'])
  const username = labels['ssh.user'] ?? pick(settings.username, target)
  if (typeof host !== 'string' || host === '') fail('host', `a host name for target ${target.id}`, host)
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) fail('port', `an SSH port for target ${target.id}`, labels['ssh.port'] ?? port)
  if (typeof username !== 'string' || !USER.test(username)) fail('username', `a login name for target ${target.id}`, username)
  const jump = typeof settings.bastion === 'function' ? settings.bastion(target) : settings.bastion
  let via: Endpoint | undefined
  if (jump) {
    checkBastion(jump)
    const bPort = jump.port ?? 22
    const bUser = jump.username ?? username
    via = {
      key: `${bUser}@${jump.host}:${bPort}`,
      host: jump.host,
      port: bPort,
      username: bUser,
      credentials: resolveCredentials('bastion.', jump, settings.credentials),
    }
  }
  const key = `${username}@${host}:${port}${via ? ` via ${via.key}` : ''}`
  return { key, host, port, username, credentials: settings.credentials, ...(via ? { via } : {}) }
}
