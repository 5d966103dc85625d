// Steady HTTP load for end-to-end tests, the demo and benchmarks, on autocannon. Its rate
// limit sends each connection's quota in a burst at the start of every second, so the load
// is spread over many one-connection instances started evenly across the first second.
import autocannon from 'autocannon'
import { ValidationError } from '@org/rolling-core'

export interface LoadOptions {
  /** e.g. the fleet's frontend: `http://127.0.0.1:8080/` */
  url: string
  /** Requests per second, in total. */
  rate: number
  /**
   * One-connection autocannon instances sharing the rate; more means smaller bursts.
   * Each instance costs ~9 ms of CPU to create (its histograms), so more than ~40 started
   * within one second would pile up and burst together.
   * @default Math.min(rate, 40)
   */
  connections?: number
  /** Hard bound: the load stops by itself after this long, whatever happens. @default 120_000 */
  maxDurationMs?: number
  /** A request without an answer for this long counts as an error. @default 5000 */
  timeoutMs?: number
}

/** One answered (status > 0) or failed (status 0) request; `at` is epoch ms of the outcome. */
export interface LoadSample {
  at: number
  status: number
  latencyMs: number
}

export interface LoadReport {
  /** Outcomes seen in the window: answers plus errors. */
  requests: number
  ok: number
  non2xx: number
  /** Timeouts and connection errors. */
  errors: number
  durationMs: number
  /** `requests` per second of the window. */
  rps: number
  /** Milliseconds, over answered requests. */
  latency: { p50: number; p90: number; p99: number; max: number }
  statusCodes: Record<string, number>
  /** Per second of the window: what happened in it. */
  timeline: { second: number; requests: number; ok: number; non2xx: number; errors: number }[]
}

export interface Load {
  /** Epoch ms when the load started. */
  readonly startedAt: number
  /** Everything recorded so far, in order. */
  readonly samples: readonly LoadSample[]
  /** Report since the previous mark (or the start), and starts a new window: "before" vs "during". */
  mark(): LoadReport
  /** Report of the whole run so far. */
  report(): LoadReport
  /** Stops every instance and resolves with the report of the whole run. */
  stop(): Promise<LoadReport>
}

export function startLoad(options: LoadOptions): Load {
  const { url, rate } = options
  const connections = options.connections ?? Math.min(rate, 40)
  const maxDurationMs = options.maxDurationMs ?? 120_000
  const timeoutMs = options.timeoutMs ?? 5000
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ValidationError('url', `expected an http(s) URL, got ${JSON.stringify(url)}`)
  if (!Number.isInteger(rate) || rate < 1) throw new ValidationError('rate', `expected an integer >= 1, got ${rate}`)
  if (!Number.isInteger(connections) || connections < 1 || connections > rate) {
    throw new ValidationError('connections', `expected an integer from 1 to rate (${rate}), got ${connections}`)
  }
  if (!Number.isFinite(maxDurationMs) || maxDurationMs <= 0) throw new ValidationError('maxDurationMs', `expected a finite number > 0, got ${maxDurationMs}`)

  const startedAt = Date.now()
  const samples: LoadSample[] = []
  const instances: autocannon.Instance[] = []
  const finished: Promise<void>[] = []
  const timers: ReturnType<typeof setTimeout>[] = []
  let stopped = false
  let stoppedAt = 0
  let markAt = startedAt
  let markIndex = 0

  const launch = (connectionRate: number) => {
    if (stopped) return
    let done!: () => void
    finished.push(new Promise<void>((resolve) => (done = resolve)))
    const instance = autocannon(
      {
        url,
        connections: 1,
        pipelining: 1,
        connectionRate,
        // The hard bound, counted from the start of the whole load.
        duration: Math.max(0.1, (maxDurationMs - (Date.now() - startedAt)) / 1000),
        timeout: timeoutMs / 1000,
        skipAggregateResult: true,
      },
      () => done(),
    )
    // Nothing is recorded after stop(): autocannon runs on to its next one-second tick and
    // then drops what is in flight, which would count as lost requests that were never ours.
    instance.on('response', (_client, status, _bytes, latencyMs) => {
      if (!stopped) samples.push({ at: Date.now(), status, latencyMs })
    })
    instance.on('reqError', () => {
      if (!stopped) samples.push({ at: Date.now(), status: 0, latencyMs: 0 })
    })
    instances.push(instance)
  }
  // Instance i sends its share at i/connections of every second.
  for (let i = 0; i < connections; i++) {
    const share = Math.floor(rate / connections) + (i < rate % connections ? 1 : 0)
    timers.push(setTimeout(() => launch(share), (i * 1000) / connections))
  }
  const hardStop = setTimeout(() => void stop(), maxDurationMs + 1000)
  hardStop.unref()

  async function stop(): Promise<LoadReport> {
    if (!stopped) {
      stopped = true
      stoppedAt = Date.now()
      for (const timer of timers) clearTimeout(timer)
      clearTimeout(hardStop)
      for (const instance of instances) instance.stop()
    }
    await Promise.all(finished)
    return summarize(samples, startedAt, stoppedAt)
  }

  return {
    startedAt,
    samples,
    mark() {
      const now = stopped ? stoppedAt : Date.now()
      const window = samples.slice(markIndex)
      const report = summarize(window, markAt, now)
      markIndex = samples.length
      markAt = now
      return report
    },
    report: () => summarize(samples, startedAt, stopped ? stoppedAt : Date.now()),
    stop,
  }
}

/** Report of `samples` over the window from `from` to `to` (epoch ms). */
export function summarize(samples: readonly LoadSample[], from: number, to: number): LoadReport {
  const durationMs = Math.max(1, to - from)
  const statusCodes: Record<string, number> = {}
  const latencies: number[] = []
  const timeline: LoadReport['timeline'] = []
  let ok = 0
  let non2xx = 0
  let errors = 0
  for (const sample of samples) {
    const second = Math.floor((sample.at - from) / 1000)
    while (timeline.length <= second) timeline.push({ second: timeline.length, requests: 0, ok: 0, non2xx: 0, errors: 0 })
    const slot = timeline[Math.max(0, second)]
    if (slot) slot.requests++
    if (sample.status === 0) {
      errors++
      if (slot) slot.errors++
      continue
    }
    statusCodes[sample.status] = (statusCodes[sample.status] ?? 0) + 1
    latencies.push(sample.latencyMs)
    if (sample.status >= 200 && sample.status < 300) {
      ok++
      if (slot) slot.ok++
    } else {
      non2xx++
      if (slot) slot.non2xx++
    }
  }
  latencies.sort((a, b) => a - b)
  const at = (q: number) => round(latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)] ?? 0)
  return {
    requests: samples.length,
    ok,
    non2xx,
    errors,
    durationMs,
    rps: round((samples.length * 1000) / durationMs),
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(latencies.at(-1) ?? 0) },
    statusCodes,
    timeline,
  }
}

const round = (n: number) => Math.round(n * 100) / 100
