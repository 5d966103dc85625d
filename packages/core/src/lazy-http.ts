// undici loaded at the first request, not with the package: a program that imports the
// engine (the CLI's `--help`, `status`) does not pay its start-up (about 100 ms). Used by
// the default health check and httpGate; each owns one keep-alive Agent so its polls of a
// target reuse their connection.
import type { Agent, Dispatcher } from 'undici'

export interface LazyHttp {
  /** undici's `request` and the dispatcher to send through, loaded on the first call. */
  load(): Promise<{ request: typeof import('undici').request; dispatcher: Dispatcher }>
  /** Closes the Agent it made (never a dispatcher given to it). */
  close(): Promise<void>
}

export function lazyHttp(options: { dispatcher?: Dispatcher; connectTimeout: number }): LazyHttp {
  let own: Agent | undefined
  let loaded: ReturnType<LazyHttp['load']> | undefined
  return {
    load: () =>
      (loaded ??= import('undici').then((undici) => {
        if (!options.dispatcher) own = new undici.Agent({ keepAliveTimeout: 10_000, connectTimeout: options.connectTimeout })
        return { request: undici.request, dispatcher: options.dispatcher ?? (own as Agent) }
      })),
    async close() {
      // A load still under way makes its Agent after this call: wait for it, then close it.
      await loaded?.catch(() => {})
      await own?.close()
    },
  }
}
