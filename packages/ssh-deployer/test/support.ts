// Helpers shared by the tests: a context that records warnings and output, an executor
// wired to a test sshd, and small file checks on the (local) host.
import { systemClock, type AdapterContext, type Target } from '@org/rolling-core'
import { sshExecutor, type SshExecutor, type SshExecutorOptions } from '../src/index.js'
import type { Sshd } from './sshd.js'

export interface Recorder {
  ctx: AdapterContext
  warnings: string[]
  output: string[]
}

export function recorder(signal: AbortSignal = new AbortController().signal): Recorder {
  const warnings: string[] = []
  const output: string[] = []
  const ctx: AdapterContext = {
    signal,
    clock: systemClock,
    log: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} },
    output: (_stream, chunk) => void output.push(chunk),
  }
  return { ctx, warnings, output }
}

export const target = (n: number, sshd?: Sshd): Target => ({ id: `host-${n}`, address: `127.0.0.${n + 1}`, ...(sshd ? {} : {}) })

/** An executor for `sshd`: root, its client key, its port, strict keys from `knownHostsText`. */
export function executorFor(
  sshd: Sshd,
  extra: Partial<SshExecutorOptions> = {},
  addresses: readonly string[] = ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
): SshExecutor {
  return sshExecutor({
    username: 'root',
    port: sshd.port,
    privateKey: sshd.clientKey,
    hostKeys: { knownHostsText: sshd.knownHosts(addresses) },
    retry: { retries: 1, minTimeoutMs: 50, maxTimeoutMs: 100 },
    ...extra,
  })
}
