// One output stream of a command, for executors: decoded as UTF-8, secrets masked (also
// when a secret is split across two chunks), streamed to `ctx.output`, the tail kept for
// the result. Shared by the local executor and remote ones (SSH).
import { StringDecoder } from 'node:string_decoder'
import type { AdapterContext } from './types.js'
import { errorMessage } from './errors.js'
import { maskSecrets } from './shell.js'

/**
 * Decodes one output stream, masks secrets and streams the result to `ctx.output`, keeping
 * the tail for the result. A secret split across two chunks is caught by holding back the
 * end of the text that could be the start of a secret until the next chunk arrives.
 */
export class OutputStream {
  private readonly decoder = new StringDecoder('utf8')
  private pending = ''
  private kept: string[] = []
  private keptChars = 0

  constructor(
    private readonly stream: 'stdout' | 'stderr',
    private readonly secrets: readonly string[],
    private readonly maxChars: number,
    private readonly ctx: AdapterContext,
    /** Names the executor in the warning about a throwing output listener. */
    private readonly executor = 'local',
  ) {}

  write(chunk: Buffer): void {
    this.push(this.decoder.write(chunk), false)
  }

  end(): void {
    this.push(this.decoder.end(), true)
  }

  text(): string {
    const all = this.kept.join('')
    return tail(all, this.maxChars)
  }

  private push(text: string, final: boolean): void {
    const masked = maskSecrets(this.pending + text, this.secrets)
    const hold = final ? 0 : heldBack(masked, this.secrets)
    this.pending = masked.slice(masked.length - hold)
    this.emit(masked.slice(0, masked.length - hold))
  }

  private emit(text: string): void {
    if (text === '') return
    this.kept.push(text)
    this.keptChars += text.length
    if (this.keptChars > 2 * this.maxChars + 4096) {
      const kept = tail(this.kept.join(''), this.maxChars)
      this.kept = [kept]
      this.keptChars = kept.length
    }
    try {
      this.ctx.output?.(this.stream, text)
    } catch (error) {
      // A failing output sink must not kill the command or lose the result.
      this.ctx.log.warn(`[rolling:${this.executor}] output listener threw: ${errorMessage(error)}`)
    }
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of some secret. */
function heldBack(text: string, secrets: readonly string[]): number {
  let longest = 0
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        longest = n
        break
      }
    }
  }
  return longest
}

function tail(text: string, max: number): string {
  if (text.length <= max) return text
  let start = text.length - max
  // Do not start on the low half of a surrogate pair.
  const code = text.charCodeAt(start)
  if (code >= 0xdc00 && code <= 0xdfff) start++
  return text.slice(start)
}

/** Shortens `text` to at most `max` characters for a message. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
