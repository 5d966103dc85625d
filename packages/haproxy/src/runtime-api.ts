// A client for the HAProxy Runtime API (the stats socket), over a unix socket or TCP.
// HAProxy's non-interactive mode is one command per connection: write `cmd\n`, read to
// EOF. Every call is bounded by a timeout and an AbortSignal.
import net from 'node:net'
import { MAX_TIMER_MS, abortReason, throwIfAborted } from '@org/rolling-core/adapter'
import { HaproxyError } from './errors.js'

export interface RuntimeApiOptions {
  /**
   * Longest wait for one command's answer, in ms.
   * @default 5000
   */
  timeoutMs?: number
}

export interface RuntimeApi {
  /** The socket as given: a unix socket path, or `host:port`. */
  readonly address: string
  /** Sends one command and returns HAProxy's raw answer. Throws on "Permission denied". */
  send(command: string, options?: CallOptions): Promise<string>
  /** Sends a command that answers a blank line on success (`set server ...`); any other answer throws. */
  execute(command: string, options?: CallOptions): Promise<void>
}

export interface CallOptions {
  signal?: AbortSignal
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number
}

type Endpoint = { path: string } | { host: string; port: number }

/**
 * `address` is a unix socket path (`/run/haproxy/admin.sock`, `unix@/run/...`) or a TCP
 * `host:port` (`127.0.0.1:9999`, `ipv4@127.0.0.1:9999`, `[::1]:9999`), as in `stats socket`.
 */
export function runtimeApi(address: string, options: RuntimeApiOptions = {}): RuntimeApi {
  const timeoutMs = options.timeoutMs ?? 5000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw new HaproxyError(
      'command',
      `invalid option \`timeoutMs\`: expected a finite number of ms from 1 to ${MAX_TIMER_MS} (Node's largest timer), got ${String(timeoutMs)}`,
    )
  }
  const endpoint = parseAddress(address)

  const send = (command: string, call: CallOptions = {}): Promise<string> => {
    // A newline would smuggle a second command into the connection.
    if (/[\r\n]/.test(command)) throw new HaproxyError('command', `refusing a runtime API command with a line break: ${JSON.stringify(command)}`)
    throwIfAborted(call.signal)
    const limit = call.timeoutMs ?? timeoutMs
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = []
      let connected = false
      let settled = false
      const socket = net.connect(endpoint)
      const finish = (error: Error | undefined, answer?: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        call.signal?.removeEventListener('abort', onAbort)
        socket.destroy()
        if (error) reject(error)
        else resolve(answer ?? '')
      }
      const timer = setTimeout(
        () => finish(new HaproxyError('timeout', `the HAProxy runtime API at ${address} did not answer \`${command}\` within ${limit}ms`)),
        limit,
      )
      const onAbort = () => finish(abortReason(call.signal as AbortSignal))
      call.signal?.addEventListener('abort', onAbort, { once: true })
      socket.on('connect', () => {
        connected = true
        socket.end(`${command}\n`)
      })
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('end', () => {
        const answer = Buffer.concat(chunks).toString('utf8')
        finish(permissionError(address, command, answer), answer)
      })
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? 'ERROR'
        finish(
          connected
            ? new HaproxyError('command', `lost the connection to the HAProxy runtime API at ${address} during \`${command}\`: ${code}`, { cause: error })
            : new HaproxyError(
                'unreachable',
                `cannot reach the HAProxy runtime API at ${address}: ${code} (${error.message}); ` +
                  'check that HAProxy runs and that its `stats socket` line names this path or address',
                { cause: error },
              ),
        )
      })
    })
  }

  const execute = async (command: string, call?: CallOptions): Promise<void> => {
    const answer = (await send(command, call)).trim()
    if (answer === '') return
    const reason = answer.startsWith('No such backend') ? 'unknown-backend' : answer.startsWith('No such server') ? 'unknown-server' : 'command'
    throw new HaproxyError(reason, `HAProxy refused \`${command}\`: ${answer.split('\n')[0]}`)
  }

  return { address, send, execute }
}

/** HAProxy answers "Permission denied" when the socket's level is below what the command needs. */
function permissionError(address: string, command: string, answer: string): HaproxyError | undefined {
  if (answer.trim() !== 'Permission denied') return undefined
  return new HaproxyError(
    'permission',
    `the stats socket at ${address} refused \`${command}\` (Permission denied): it needs \`level admin\`, ` +
      'e.g. `stats socket /run/haproxy/admin.sock mode 600 level admin` in the global section',
  )
}

function parseAddress(address: string): Endpoint {
  if (typeof address !== 'string' || address === '') {
    throw new HaproxyError('unreachable', `invalid runtime API address ${JSON.stringify(address)}: expected a unix socket path or host:port`)
  }
  if (address.startsWith('unix@')) return { path: address.slice('unix@'.length) }
  const bare = address.replace(/^ipv[46]@/, '')
  const tcp = /^(?:\[([^\]]+)\]|([^/:]+)):(\d{1,5})$/.exec(bare)
  if (tcp) return { host: (tcp[1] ?? tcp[2]) as string, port: Number(tcp[3]) }
  return { path: address }
}
