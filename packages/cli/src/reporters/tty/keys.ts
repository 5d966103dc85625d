// Keys typed while the view is live. The terminal is put in raw mode so a key arrives
// without Enter; raw mode also turns Ctrl-C into a plain '\u0003' byte, so it is handed
// back to the process as the SIGINT the terminal would have sent (the CLI's abort).
import type { ReporterContext } from '../reporter.js'

const CTRL_C = '\u0003'

export interface KeyHandlers {
  key(key: string): void
  /** @default sends SIGINT to this process, as the terminal would without raw mode */
  interrupt?: () => void
}

/**
 * Reads keys from `input` when it is a terminal; returns the function that puts the
 * terminal back as it was, or undefined when there is nothing to read keys from.
 */
export function listenKeys(input: ReporterContext['input'], handlers: KeyHandlers): (() => void) | undefined {
  if (!input?.isTTY || typeof input.setRawMode !== 'function') return undefined
  const interrupt = handlers.interrupt ?? (() => process.kill(process.pid, 'SIGINT'))
  const onData = (data: Buffer | string) => {
    const text = typeof data === 'string' ? data : data.toString('utf8')
    for (const key of text) {
      if (key === CTRL_C) interrupt()
      else handlers.key(key)
    }
  }
  input.setRawMode(true)
  input.on('data', onData)
  input.resume()
  let restored = false
  return () => {
    if (restored) return
    restored = true
    input.off('data', onData)
    input.setRawMode?.(false)
    // A paused stdin no longer holds the event loop open: the CLI can exit.
    input.pause()
  }
}
