// The reporter's error: what went wrong with a post, after how many attempts. Messages
// name the webhook by its origin only, because a webhook URL's path is usually a secret.

export type WebhookErrorReason =
  /** The webhook answered a status other than 2xx. */
  | 'status'
  /** No answer within `timeoutMs`. */
  | 'timeout'
  /** Refused, reset, DNS, TLS... */
  | 'network'
  /** Never sent: the queue was full or a flush deadline passed. */
  | 'dropped'
  /** The `body` option threw. */
  | 'format'

export class WebhookError extends Error {
  readonly reason: WebhookErrorReason
  /** POSTs made for this message. */
  readonly attempts: number
  /** The last HTTP status, when one came back. */
  readonly status?: number
  constructor(reason: WebhookErrorReason, message: string, options: { attempts: number; status?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WebhookError'
    this.reason = reason
    this.attempts = options.attempts
    if (options.status !== undefined) this.status = options.status
  }
}

/** `https://hooks.slack.com/services/T0/B0/secret` → `https://hooks.slack.com/…`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/…`
  } catch {
    return '(invalid URL)'
  }
}
