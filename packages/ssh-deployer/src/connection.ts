// One SSH connection: TCP (or a stream through a bastion), handshake with the host key
// checked before anything else is sent, then authentication. Failures are classified so
// the pool retries only what is worth retrying (never a refused host key or login).
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import { Client, type ConnectConfig } from 'ssh2'
import { describeKey, algorithmsFor, type HostKeyChecker } from './host-keys.js'
import { SshError } from './errors.js'
import type { Endpoint } from './options.js'

export interface ConnectSettings {
  checker: HostKeyChecker
  connectTimeoutMs: number
  keepaliveIntervalMs: number
  keepaliveCountMax: number
  /** Called once when the host key was accepted without a check. */
  onInsecure?: (endpoint: Endpoint, fingerprint: string) => void
}

export interface Connection {
  readonly endpoint: Endpoint
  readonly client: Client
  /** Handshake + auth time, ms. */
  readonly connectMs: number
  /** Set once the connection is gone; `reason` says why. */
  readonly closed: { reason: string } | undefined
  /** Runs `fn` when the connection closes (at once when already closed). */
  onClose(fn: (reason: string) => void): () => void
  end(): void
}

/** Opens one connection. `sock` is the bastion's forwarded stream, when hopping. */
export async function connect(endpoint: Endpoint, settings: ConnectSettings, sock?: Duplex): Promise<Connection> {
  const { checker } = settings
  const loaded = await checker.load()
  const knownTypes = checker.insecure ? [] : await checker.knownTypes(endpoint.host, endpoint.port)
  const algorithms = algorithmsFor(knownTypes)
  const started = performance.now()
  const client = new Client()
  let refusal: string | undefined
  let presented: string | undefined

  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    readyTimeout: settings.connectTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    // Offering only the key types known for this host makes the server present the one we can check.
    ...(algorithms.length ? { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
    hostVerifier: (blob: Buffer) => {
      const key = describeKey(blob)
      presented = key.fingerprint
      const verdict = checker.check(endpoint.host, endpoint.port, key, loaded)
      if (!verdict.ok) refusal = verdict.reason
      return verdict.ok
    },
    ...(endpoint.credentials.privateKey === undefined ? {} : { privateKey: endpoint.credentials.privateKey }),
    ...(endpoint.credentials.passphrase === undefined ? {} : { passphrase: endpoint.credentials.passphrase }),
    ...(endpoint.credentials.agent === undefined ? {} : { agent: endpoint.credentials.agent }),
    ...(sock ? { sock } : {}),
  }

  const where = `${endpoint.username}@${endpoint.host}:${endpoint.port}${endpoint.via ? ` via ${endpoint.via.host}:${endpoint.via.port}` : ''}`
  // How far the handshake got, so a timeout says what the server failed to do.
  let stage: 'tcp' | 'banner' | 'kex' | 'auth' = 'tcp'
  config.debug = (message: string) => {
    if (message.startsWith('Remote ident')) stage = 'kex'
    else if (message === 'Handshake completed') stage = 'auth'
  }
  // ssh2 may emit 'error' several times (a timeout, then the reset of the socket it destroys):
  // this listener stays for the client's whole life, so no emit can ever be unhandled.
  let errorSink: (error: Error & { level?: string }) => void = () => {}
  let lastError: string | undefined
  client.on('error', (error: Error & { level?: string }) => {
    lastError ??= error.message
    errorSink(error)
  })
  await new Promise<void>((resolve, reject) => {
    // The first of error / close / timeout settles; the rest are ignored.
    let settled = false
    const limit = settings.connectTimeoutMs
    const hardTimer = setTimeout(() => fail(new Error(timeoutText(stage, limit))), limit + 1000)
    function fail(error: Error & { level?: string }) {
      if (settled) return
      settled = true
      errorSink = () => {}
      clearTimeout(hardTimer)
      client.end()
      client.destroy()
      if (refusal) {
        reject(new SshError('host-key', `[rolling:ssh] refused ${where}: ${refusal}`, { cause: error }))
      } else if (error.level === 'client-authentication') {
        reject(new SshError('auth', `[rolling:ssh] ${where} refused every credential offered (${offered(endpoint)})`, { cause: error }))
      } else if (error.level === 'handshake' && /host key|no matching/i.test(error.message)) {
        // The server offers no key type we hold for it: refused like a mismatch, never retried.
        reject(new SshError('host-key', `[rolling:ssh] refused ${where}: ${error.message} (the known host keys for it are of another type)`, { cause: error }))
      } else {
        const message = /Timed out while waiting for handshake/.test(error.message) ? timeoutText(stage, limit) : error.message
        reject(new SshError('connect', `[rolling:ssh] cannot connect to ${where}: ${message}`, { cause: error }))
      }
    }
    errorSink = fail
    client.once('connect', () => {
      if (stage === 'tcp') stage = 'banner'
    })
    client.once('ready', () => {
      if (settled) return
      settled = true
      errorSink = () => {}
      clearTimeout(hardTimer)
      // Commands are small request/reply exchanges: Nagle + delayed ACK cost ~40 ms on each.
      client.setNoDelay(true)
      resolve()
    })
    client.once('close', () =>
      fail(new Error(stage === 'banner' ? 'the server closed the connection before sending an SSH banner' : 'connection closed during the handshake')),
    )
    try {
      client.connect(config)
    } catch (error) {
      fail(error as Error)
    }
  })
  if (checker.insecure) settings.onInsecure?.(endpoint, presented ?? 'unknown')
  const connectMs = performance.now() - started

  let closed: { reason: string } | undefined
  const listeners = new Set<(reason: string) => void>()
  const markClosed = (reason: string) => {
    if (closed) return
    closed = { reason }
    for (const fn of listeners) fn(reason)
    listeners.clear()
  }
  // After 'ready', errors (keepalive timeout, reset) are followed by 'close'; the permanent
  // listener above keeps the first reason.
  lastError = undefined
  client.on('close', () => markClosed(lastError ?? 'closed by the server'))
  client.on('end', () => {
    lastError ??= 'the server ended the connection'
  })
  return {
    endpoint,
    client,
    connectMs,
    get closed() {
      return closed
    },
    onClose(fn) {
      if (closed) {
        fn(closed.reason)
        return () => {}
      }
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    end() {
      markClosed('closed by the executor')
      client.end()
    },
  }
}

function timeoutText(stage: 'tcp' | 'banner' | 'kex' | 'auth', ms: number): string {
  const limit = ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`
  if (stage === 'tcp') return `no TCP connection within ${limit}`
  if (stage === 'banner') return `no SSH banner within ${limit} (the port accepts TCP but does not speak SSH)`
  if (stage === 'kex') return `no key exchange within ${limit}`
  return `authentication did not finish within ${limit}`
}

function offered(endpoint: Endpoint): string {
  const parts = [endpoint.credentials.privateKey !== undefined ? 'a private key' : '', endpoint.credentials.agent !== undefined ? 'the agent' : ''].filter(
    Boolean,
  )
  return parts.join(' and ') || 'no credential'
}
