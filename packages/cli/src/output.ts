// Output that can fail without ending the command. A rollout is half done when its output
// goes away: `rolling deploy --json | head` closes the pipe (EPIPE), stdout redirected to a
// full disk fails every write (ENOSPC), a closed terminal answers EIO. Node turns the first
// into an unhandled 'error' event and the second into an exception out of `write`, either
// of which would end the process with hosts out of the load balancer. A guarded stream
// drops what cannot be written instead; the rollout goes on (Ctrl-C still aborts it), its
// journal and the exit code say how it ended.
import type { Writable } from 'node:stream'
import { messageOf } from './errors.js'

export type LostOutput = (name: string, error: unknown) => void

/**
 * Makes `stream.write` never throw and never crash the process: the first failure calls
 * `onLost` once, and every later write is dropped. The stream itself is kept (its `isTTY`,
 * `columns` and 'resize' events stay what the reporters read), only its `write` is replaced.
 */
export function guardOutput<S extends Writable>(stream: S, name: string, onLost: LostOutput): S {
  let lost = false
  const lose = (error: unknown) => {
    if (lost) return
    lost = true
    onLost(name, error)
  }
  stream.on('error', lose)
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
  const guarded = (...args: unknown[]): boolean => {
    // A callback (the last argument when it is a function) still hears of the dropped write.
    const callback = typeof args.at(-1) === 'function' ? (args.at(-1) as (error?: Error | null) => void) : undefined
    if (lost || stream.destroyed) {
      callback?.(null)
      return true
    }
    try {
      return write(...args)
    } catch (error) {
      lose(error)
      callback?.(null)
      return true
    }
  }
  Object.defineProperty(stream, 'write', { value: guarded, configurable: true, writable: true })
  return stream
}

/** Keys cannot be read from a closed terminal either: its EIO must not end the process. */
export function guardInput<S extends NodeJS.ReadableStream>(stream: S): S {
  stream.on('error', () => {})
  return stream
}

/** What the CLI says on stderr (while it still can) when stdout went away. */
export function lostOutputNotice(stderr: Writable): LostOutput {
  return (name, error) => {
    if (name === 'stderr') return
    const code = (error as { code?: unknown })?.code
    stderr.write(
      `rolling: ${name} is gone (${typeof code === 'string' ? code : messageOf(error)}): the command goes on without printing there; its exit code says how it ended\n`,
    )
  }
}
