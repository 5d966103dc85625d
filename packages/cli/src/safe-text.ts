// The one sanitizer for everything the CLI prints that came from outside it: target ids,
// host output, reasons, error messages, journal and config values. A terminal obeys control
// characters (ESC[2J clears the screen, OSC 0 sets the title, OSC 52 writes the clipboard),
// so none reaches it raw. Host output loses its escape sequences and control characters (a
// build tool's colours are noise in a log); in data (ids, reasons, messages) they are shown
// as text (`\x1b`), so two ids that differ only by one stay visibly different.

// CSI (`ESC [ ... final`, or the 8-bit CSI), OSC/DCS/APC/PM strings up to BEL or ST, and
// two-byte ESC sequences: what programs print to colour, move the cursor or set a title.
const SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u0090\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]/g
// C0 (but \t and \n), DEL, C1; and the bidirectional overrides and isolates, which reorder
// what a person reads (`Trojan Source`) without being control characters to a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_OR_NEWLINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

function visible(ch: string): string {
  const code = ch.charCodeAt(0)
  if (ch === '\n') return '\\n'
  if (ch === '\r') return '\\r'
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Data shown as text: control characters made visible; `\n` and `\t` kept. */
export function safeText(text: string): string {
  return String(text).replace(CONTROL, visible)
}

/** Data on one line of output: as `safeText`, and a newline shown as `\n` (it could forge a line). */
export function safeLine(text: string): string {
  return String(text).replace(CONTROL_OR_NEWLINE, visible)
}

/**
 * A host's command output: its escape sequences (colours, titles, clipboard) and other control
 * characters dropped, as a log viewer would; `\n` and `\t` kept.
 */
export function safeOutput(text: string): string {
  return String(text).replace(/\r\n/g, '\n').replace(SEQUENCE, '').replace(CONTROL, '')
}

/**
 * JSON with no raw control byte in it: JSON.stringify escapes C0 but leaves DEL, C1 and the
 * bidi controls as they are. The values read back unchanged.
 */
export function safeJson(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  return JSON.stringify(value, replacer).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

// ASCII punctuation that makes Markdown syntax inside a line (backslash escapes are valid for all of it);
// backticks stay: a code span shows text literally, and the CLI's own messages use them.
const MARKDOWN = /[\\*_[\]|~]/g
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }

/** Text inside a Markdown line or table cell: one line, visible controls, no raw HTML, no markup. */
export function markdownText(text: string): string {
  return safeLine(text.replace(/\s*\n\s*/g, ' ').trim())
    .replace(MARKDOWN, (ch) => `\\${ch}`)
    .replace(/[&<>]/g, (ch) => HTML[ch] as string)
}

/**
 * A Markdown code span around `text`, whatever backticks it holds (the fence is longer than
 * any run inside). `<`, `>`, `&` become entities even there (shown literally, `&lt;`): no
 * renderer or checker can take a hostile id for a tag. In a table a pipe still ends the cell,
 * so `table` escapes it.
 */
export function markdownCode(text: string, table = false): string {
  let inner = safeLine(text.replace(/\s*\n\s*/g, ' ').trim()).replace(/[&<>]/g, (ch) => HTML[ch] as string)
  if (table) inner = inner.replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = inner.startsWith('`') || inner.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${inner}${pad}${fence}`
}
