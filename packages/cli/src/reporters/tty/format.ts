// Small formatting helpers of the terminal view: durations short enough for a status
// line, and the progress bar.

/** `850ms`, `3.2s`, `42s`, `3m05s`, `1h02m`: precise while short, compact when long. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** An estimate, in whole seconds at most: `<1s`, `7s`, `3m05s` (tenths would claim a precision it lacks). */
export function estimate(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 1000) return '<1s'
  return duration(Math.ceil(ms / 1000) * 1000).replace(/\.0s$/, 's')
}

/** A bar `cells` wide, filled to `fraction` (0..1), in eighths so slow progress still moves. */
export function bar(fraction: number, cells: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const eighths = Math.round(f * cells * 8)
  const full = Math.floor(eighths / 8)
  const part = eighths % 8
  const partial = part > 0 ? (PARTS[part] as string) : ''
  return '█'.repeat(full) + partial + '░'.repeat(Math.max(0, cells - full - (partial ? 1 : 0)))
}

const PARTS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']
