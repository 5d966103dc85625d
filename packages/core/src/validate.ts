// Checks shared by the rollout options, the CLI's config and every adapter's options, so a
// bad value is worded the same way everywhere: the option, what was expected, what it got.
import { ValidationError } from './errors.js'

/**
 * The largest delay Node's timers accept (2^31-1 ms, ~24.8 days). A larger one is clamped to
 * 1 ms with only a warning: a 30-day timeout would fire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** A value as a message shows it: strings quoted, objects as JSON, functions named as such. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  try {
    return JSON.stringify(value) ?? typeof value
  } catch {
    return typeof value
  }
}

/** Throws the ValidationError `expected <expected>, got <value>` for `option`. */
export function failOption(option: string, expected: string, value: unknown): never {
  throw new ValidationError(option, `expected ${expected}, got ${showValue(value)}`)
}

export interface CheckMsOptions {
  /** The smallest value allowed. @default 0 */
  min?: number
  /** Only whole milliseconds. @default false */
  integer?: boolean
}

/**
 * Checks a duration in milliseconds that ends in a timer: a finite number from `min` up to
 * MAX_TIMER_MS. Returns it; throws a ValidationError naming `option` and the value.
 */
export function checkMs(option: string, value: unknown, options: CheckMsOptions = {}): number {
  const min = options.min ?? 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (options.integer && !Number.isInteger(value))) {
    failOption(option, `a finite ${options.integer ? 'whole ' : ''}number of milliseconds >= ${min}`, value)
  }
  if (value > MAX_TIMER_MS) {
    throw new ValidationError(option, `${value} ms is above the largest timer Node supports (${MAX_TIMER_MS} ms, ~24.8 days)`)
  }
  return value
}

/** `checkMs` for an optional value: undefined passes. */
export function checkOptionalMs(option: string, value: unknown, options?: CheckMsOptions): number | undefined {
  return value === undefined ? undefined : checkMs(option, value, options)
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost)
      diagonal = above
    }
  }
  return row[b.length] as number
}

/**
 * The known name closest to `name`, when it is close enough to be a typo (`settel` ->
 * `settle`) or one starts with the other (`batchSize` -> `batch`).
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const lower = name.toLowerCase()
  for (const candidate of known) {
    const c = candidate.toLowerCase()
    const prefix = c.length >= 3 && lower.length >= 3 && (lower.startsWith(c) || c.startsWith(lower))
    const distance = prefix ? Math.min(1.5, editDistance(name, candidate)) : editDistance(name, candidate)
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance]
  }
  const allowed = Math.max(2, Math.floor(name.length / 3))
  return bestDistance <= allowed ? best : undefined
}

/**
 * Refuses keys of `value` outside `known`: `unknown option batchSize: did you mean batch?`.
 * `path` is the option holding them ('' for the top level, `settle` for `settle.*`).
 */
export function checkKeys(path: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const name = path === '' ? key : `${path}.${key}`
    const guess = closest(key, known)
    const hint =
      guess === undefined
        ? `the options${path === '' ? '' : ` of ${path}`} are ${known.join(', ')}`
        : `did you mean ${path === '' ? guess : `${path}.${guess}`}?`
    const error = new ValidationError(name, hint)
    error.message = `[rolling] unknown option ${name}: ${hint}`
    throw error
  }
}
