// webhookReporter: posts a rollout's progress to a chat webhook with undici. A listener only
// queues a message, so the rollout never waits on the webhook; posts go out one at a time in
// order, each with a time limit and a few retries; failures are reported, never thrown.
import { type RolloutEvent, type RolloutRun, ValidationError } from '@org/rolling-core'
import { type Dispatcher, request } from 'undici'
import { messageFormatter, type FormatOptions, type ReporterMessage } from './format.js'
import { WebhookError, redactUrl } from './errors.js'

export interface WebhookReporterOptions extends FormatOptions {
  /**
   * The incoming webhook (Slack, Mattermost, Teams, or your own endpoint). Its path often
   * holds a secret token: errors show only its origin.
   * @example 'https://hooks.slack.com/services/T000/B000/XXXX'
   */
  url: string
  /** Builds the JSON body of a post. @default (message) => ({ text: message.text }) */
  body?: (message: ReporterMessage) => unknown
  headers?: Record<string, string>
  /** Time allowed for one POST, answer included. @default 5000 */
  timeoutMs?: number
  /** Retries of a failed POST (no answer, timeout, 429, 5xx); other 4xx are not retried. @default 2 */
  retries?: number
  /** Delay before the first retry; it doubles for each next one. @default 500 */
  retryDelayMs?: number
  /** Messages waiting beyond this drop the oldest waiting one (reported). @default 100 */
  maxQueue?: number
  /** undici dispatcher to post through. @default undici's global dispatcher */
  dispatcher?: Dispatcher
  /**
   * Called once per message that was not delivered (after its retries) or was dropped.
   * @default process.emitWarning
   */
  onError?: (error: WebhookError) => void
}

export interface FlushOptions {
  /** Give up waiting after this long; posts still in flight are aborted, the rest dropped. @default 10_000 */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface ReporterStats {
  delivered: number
  /** Gave up after the retries. */
  failed: number
  /** Never sent: the queue was full, or a flush deadline passed first. */
  dropped: number
  /** Queued or in flight now. */
  pending: number
}

export interface WebhookReporter {
  /** Subscribes to a run's events (call it before awaiting the run); returns the unsubscribe function. */
  watch(run: Pick<RolloutRun, 'subscribe'>): () => void
  /** Waits until every queued message is delivered or has failed, or the deadline passes. Never rejects. */
  flush(options?: FlushOptions): Promise<ReporterStats>
  readonly stats: ReporterStats
}

export function webhookReporter(options: WebhookReporterOptions): WebhookReporter {
  const opts = { timeoutMs: 5000, retries: 2, retryDelayMs: 500, maxQueue: 100, ...options }
  validate(opts)
  const where = redactUrl(opts.url)
  const toBody = opts.body ?? ((message: ReporterMessage) => ({ text: message.text }))
  const onError = opts.onError ?? ((error: WebhookError) => process.emitWarning(error.message))
  const headers = { 'content-type': 'application/json', ...opts.headers }
  const counts = { delivered: 0, failed: 0, dropped: 0 }
  // Each message with its JSON body, built when queued so a throwing `body` is reported at once.
  const queue: { message: ReporterMessage; payload: string }[] = []
  let inFlight = 0
  let pumping: Promise<void> | undefined
  // Aborted by a flush whose deadline passed: cuts the post in flight and empties the queue.
  let cancel = new AbortController()

  const stats = (): ReporterStats => ({ ...counts, pending: queue.length + inFlight })

  const report = (error: WebhookError) => {
    try {
      onError(error)
    } catch {
      // A throwing error handler must not break the reporter either.
    }
  }

  const enqueue = (message: ReporterMessage) => {
    const payload = JSON.stringify(toBody(message))
    if (queue.length >= opts.maxQueue) {
      const oldest = queue.shift() as { message: ReporterMessage }
      counts.dropped++
      report(
        new WebhookError('dropped', `[webhook] ${where}: dropped "${firstLine(oldest.message.text)}": more than ${opts.maxQueue} messages waiting`, {
          attempts: 0,
        }),
      )
    }
    queue.push({ message, payload })
    pumping ??= pump()
  }

  const pump = async (): Promise<void> => {
    while (queue.length > 0) {
      const signal = cancel.signal
      if (signal.aborted) {
        counts.dropped += queue.length
        report(new WebhookError('dropped', `[webhook] ${where}: dropped ${queue.length} message(s): flush deadline passed`, { attempts: 0 }))
        queue.length = 0
        break
      }
      const { message, payload } = queue.shift() as { message: ReporterMessage; payload: string }
      inFlight++
      try {
        await deliver(message, payload, signal)
        counts.delivered++
      } catch (error) {
        const failed =
          error instanceof WebhookError ? error : new WebhookError('network', `[webhook] ${where}: ${String(error)}`, { attempts: 1, cause: error })
        if (failed.reason === 'dropped') counts.dropped++
        else counts.failed++
        report(failed)
      } finally {
        inFlight--
      }
    }
    // Same synchronous step as the last queue check: a message queued after it starts a new pump.
    pumping = undefined
  }

  const deliver = async (message: ReporterMessage, payload: string, signal: AbortSignal): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) {
        throw new WebhookError('dropped', `[webhook] ${where}: abandoned "${firstLine(message.text)}": flush deadline passed`, { attempts: attempt - 1 })
      }
      try {
        await post(payload, signal)
        return
      } catch (error) {
        const why = error instanceof PostFailure ? error : new PostFailure('network', describe(error), undefined, error)
        if (signal.aborted) {
          throw new WebhookError('dropped', `[webhook] ${where}: abandoned "${firstLine(message.text)}": flush deadline passed`, {
            attempts: attempt,
            cause: error,
          })
        }
        if (!why.retryable || attempt > opts.retries) {
          throw new WebhookError(why.reason, `[webhook] POST ${where} failed after ${attempt} attempt(s): ${why.message}`, {
            attempts: attempt,
            ...(why.status === undefined ? {} : { status: why.status }),
            cause: error,
          })
        }
        await sleep(opts.retryDelayMs * 2 ** (attempt - 1), signal).catch(() => undefined)
      }
    }
  }

  const post = async (payload: string, signal: AbortSignal): Promise<void> => {
    const controller = new AbortController()
    const onCancel = () => controller.abort(signal.reason)
    signal.addEventListener('abort', onCancel, { once: true })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort(new Error('timeout'))
    }, opts.timeoutMs)
    try {
      const response = await request(opts.url, {
        method: 'POST',
        headers,
        body: payload,
        signal: controller.signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      })
      const text = (await response.body.text()).slice(0, 200)
      if (response.statusCode >= 200 && response.statusCode < 300) return
      const retryable = response.statusCode === 429 || response.statusCode >= 500
      throw new PostFailure('status', `status ${response.statusCode}${text.trim() ? ` (${text.trim()})` : ''}`, response.statusCode, undefined, retryable)
    } catch (error) {
      if (error instanceof PostFailure) throw error
      if (timedOut) throw new PostFailure('timeout', `no answer within ${opts.timeoutMs} ms`, undefined, error)
      throw error
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onCancel)
    }
  }

  return {
    watch(run) {
      const format = messageFormatter(opts)
      return run.subscribe((event: RolloutEvent) => {
        // Only queues: the rollout's emit returns at once whatever the webhook does.
        try {
          const message = format(event)
          if (message) enqueue(message)
        } catch (error) {
          report(new WebhookError('format', `[webhook] could not build a message for ${event.type}: ${describe(error)}`, { attempts: 0, cause: error }))
        }
      })
    },

    async flush(flushOptions = {}) {
      const running = pumping
      if (running) {
        let timer: NodeJS.Timeout | undefined
        let stopWaiting = () => {}
        const outOfTime = new Promise<void>((resolve) => {
          stopWaiting = resolve
          timer = setTimeout(resolve, flushOptions.timeoutMs ?? 10_000)
          if (flushOptions.signal?.aborted) resolve()
          flushOptions.signal?.addEventListener('abort', stopWaiting, { once: true })
        })
        await Promise.race([running, outOfTime])
        clearTimeout(timer)
        flushOptions.signal?.removeEventListener('abort', stopWaiting)
        if (pumping) {
          cancel.abort(new Error('flush deadline passed'))
          await pumping
          cancel = new AbortController()
        }
      }
      return stats()
    },

    get stats() {
      return stats()
    },
  }
}

/** Why one POST failed; `deliver` decides whether to try again. */
class PostFailure extends Error {
  constructor(
    readonly reason: 'status' | 'timeout' | 'network',
    message: string,
    readonly status?: number,
    cause?: unknown,
    readonly retryable = true,
  ) {
    super(message, { cause })
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? `${error.message} (${code})` : error.message
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}

function validate(opts: WebhookReporterOptions & { timeoutMs: number; retries: number; retryDelayMs: number; maxQueue: number }): void {
  let url: URL | undefined
  try {
    url = new URL(opts.url)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // The URL may hold a secret: show only what cannot leak it.
    throw new ValidationError(
      'url',
      `webhookReporter: expected an http(s) URL, got ${typeof opts.url === 'string' ? `a string of ${opts.url.length} characters` : String(opts.url)}`,
    )
  }
  const check = (key: 'timeoutMs' | 'retries' | 'retryDelayMs' | 'maxQueue', min: number, integer: boolean) => {
    const value = opts[key]
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new ValidationError(key, `webhookReporter: expected ${integer ? 'an integer' : 'a finite number'} >= ${min}, got ${String(value)}`)
    }
  }
  check('timeoutMs', 1, false)
  check('retries', 0, true)
  check('retryDelayMs', 0, false)
  check('maxQueue', 1, true)
  if (opts.maxTargets !== undefined && (!Number.isInteger(opts.maxTargets) || opts.maxTargets < 1)) {
    throw new ValidationError('maxTargets', `webhookReporter: expected an integer >= 1, got ${String(opts.maxTargets)}`)
  }
}
