// Public API of the custom reporter example: webhookReporter, which posts a rollout's
// progress (a message per batch and one at the end) to a chat webhook.
export { webhookReporter, type WebhookReporter, type WebhookReporterOptions, type FlushOptions, type ReporterStats } from './reporter.js'
export { messageFormatter, type ReporterMessage, type FormatOptions } from './format.js'
export { WebhookError, redactUrl, type WebhookErrorReason } from './errors.js'
