// The load generator in a process of its own, as users are: the rollout controller (the
// engine, shell spawns, HAProxy polling) must not stall the clients and show its own
// event-loop lag as request latency. The child (load-child.ts) runs startLoad and streams
// its samples here; windows are cut by this process's clock.
import { fork } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { summarize, type LoadReport, type LoadSample } from './load.js'

/** A window of the load; `reference` is the same seconds on the reference server, when there is one. */
export type Window = LoadReport & { reference?: LoadReport }

/** The load of `startLoad`, run in a child process; windows are cut by the parent's clock. */
export interface LoadProcess {
  readonly samples: readonly LoadSample[]
  /** Report since the previous mark (or since the load started), and starts a new window. */
  mark(): Promise<Window>
  /** Report of the whole run so far. */
  report(): Promise<LoadReport>
  /** Stops the load and resolves with the report of the whole run; the child has exited. */
  stop(): Promise<LoadReport>
}

const LOAD_SCRIPT = fileURLToPath(new URL('./load-child.ts', import.meta.url))

export async function startLoadProcess(url: string, rate: number, reference?: { url: string; rate: number }): Promise<LoadProcess> {
  const { NODE_OPTIONS: _, ...env } = process.env
  const child = fork(LOAD_SCRIPT, [url, String(rate), ...(reference ? [reference.url, String(reference.rate)] : [])], {
    execArgv: ['--conditions=@org/source', '--import', 'tsx'],
    cwd: dirname(LOAD_SCRIPT),
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const streams: Record<string, LoadSample[]> = { main: [], reference: [] }
  const waiting = new Map<number, () => void>()
  let nextId = 0
  let startedAt = 0
  let exited = false
  let stoppedAt = 0
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      for (const done of waiting.values()) done()
      resolve()
    }),
  )
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the load process exited (${code}) before it started`)))
    child.on('message', (message: { type: string; id?: number; name?: string; startedAt?: number; samples?: LoadSample[] }) => {
      if (message.type === 'ready') {
        startedAt = message.startedAt ?? Date.now()
        resolve()
      } else if (message.type === 'samples') streams[message.name ?? 'main']?.push(...(message.samples ?? []))
      else if (message.type === 'flushed') waiting.get(message.id ?? -1)?.()
    })
  })
  try {
    await ready
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  // Everything recorded up to now has arrived once the child answers a flush.
  const flush = async () => {
    if (exited) return
    const id = nextId++
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve)
      child.send({ type: 'flush', id })
    })
    waiting.delete(id)
  }
  let markAt = startedAt
  const marks: Record<string, number> = { main: 0, reference: 0 }
  const cut = (name: string, from: number, to: number) => {
    const samples = streams[name] as LoadSample[]
    let end = marks[name] as number
    while (end < samples.length && (samples[end] as LoadSample).at <= to) end++
    const report = summarize(samples.slice(marks[name], end), from, to)
    marks[name] = end
    return report
  }
  const main = streams.main as LoadSample[]
  return {
    samples: main,
    async mark() {
      const now = stoppedAt || Date.now()
      await flush()
      const window: Window = cut('main', markAt, now)
      if (reference) window.reference = cut('reference', markAt, now)
      markAt = now
      return window
    },
    async report() {
      const now = stoppedAt || Date.now()
      await flush()
      return summarize(main, startedAt, now)
    },
    async stop() {
      if (!exited) {
        stoppedAt ||= Date.now()
        child.send({ type: 'stop' })
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exit
        clearTimeout(timer)
      }
      return summarize(main, startedAt, stoppedAt || Date.now())
    },
  }
}
