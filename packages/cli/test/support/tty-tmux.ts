// A real terminal for the CLI's tests: a command run in a detached tmux session of a
// private tmux server (its own socket, no user config), its screen captured as a person
// would see it, keys typed into it, its exit code kept. Every capture is kept, so a test
// can check what the screen showed at some point during the run, not only at the end.
import { execFile } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { shellQuote } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'

const run = promisify(execFile)

/** The tmux binary on PATH, if any. */
export function findTmux(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'tmux'), constants.X_OK)
      return join(dir, 'tmux')
    } catch {}
  }
  return undefined
}

export interface TerminalOptions {
  command: readonly string[]
  cwd: string
  /** Variables set for the command, on top of a clean environment (see `cleanEnv`). */
  env?: Record<string, string>
  /** @default 120 */
  columns?: number
  /** @default 40 */
  rows?: number
}

export interface Capture {
  at: number
  text: string
}

export interface Terminal {
  /** The visible screen now, trailing blanks trimmed; with `escapes`, colours included. */
  capture(options?: { escapes?: boolean }): Promise<string>
  /** Every text capture so far, oldest first. */
  readonly captures: readonly Capture[]
  /** Types keys, in tmux's names: `'o'`, `'C-c'`, `'Enter'`. */
  sendKeys(...keys: string[]): Promise<void>
  /** Captures until `match` holds, or fails with the last screen. */
  waitFor(what: string, match: (screen: string) => boolean, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<string>
  /** Waits for the command to exit; resolves with its exit code. */
  exited(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<number>
  /** Resizes the terminal, as a person dragging the window's corner. */
  resize(columns: number, rows: number): Promise<void>
  /** Whether the terminal is in raw mode (no line editing: keys go to the program one by one). */
  rawMode(): Promise<boolean>
  /** Whether the terminal's cursor is shown now. */
  cursorVisible(): Promise<boolean>
  /** Ends the session and the private tmux server. */
  close(): Promise<void>
}

// Test runners and CI put variables in the environment that would change what the CLI does
// (CI selects plain output; NODE_OPTIONS loaders; NO_COLOR): a person's terminal has none.
const DROPPED = /^(CI|GITHUB_.*|NODE_OPTIONS|NO_COLOR|FORCE_COLOR|VITEST.*|TMUX.*|TERM)$/

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !DROPPED.test(key)) env[key] = value
  return { ...env, ...extra }
}

export async function startTerminal(options: TerminalOptions): Promise<Terminal> {
  const tmux = findTmux()
  if (!tmux) throw new Error('tmux is not installed (apt-get install -y tmux): the terminal view is tested in a real terminal')
  const dir = mkdtempSync(join(tmpdir(), 'rolling-tty-'))
  const socket = join(dir, 'tmux.sock')
  const exitFile = join(dir, 'exit-code')
  const session = 'rolling'
  const env = cleanEnv(options.env)
  const t = (...args: string[]) => run(tmux, ['-S', socket, '-f', '/dev/null', ...args], { env: { ...env, TERM: 'xterm-256color' }, maxBuffer: 4 << 20 })
  const captures: Capture[] = []
  // The exit code goes to a file; the shell then waits so the last screen stays for capture.
  const script = `${options.command.map((word) => shellQuote(word)).join(' ')}; echo $? > ${shellQuote(exitFile)}; exec sleep 600`
  await t(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(options.columns ?? 120),
    '-y',
    String(options.rows ?? 40),
    '-c',
    options.cwd,
    ...Object.entries(options.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    script,
  )

  const capture = async (opts: { escapes?: boolean } = {}) => {
    // -J: a line the terminal wrapped comes back whole, as the program wrote it.
    const { stdout } = await t('capture-pane', '-p', '-J', ...(opts.escapes ? ['-e'] : []), '-t', session)
    const text = stdout.replace(/[ \t]+$/gm, '').replace(/\s+$/, '')
    if (!opts.escapes) captures.push({ at: Date.now(), text })
    return text
  }
  const exitCode = (): number | undefined => {
    try {
      const text = readFileSync(exitFile, 'utf8').trim()
      return text === '' ? undefined : Number(text)
    } catch {
      return undefined
    }
  }

  return {
    capture,
    captures,
    async sendKeys(...keys) {
      await t('send-keys', '-t', session, ...keys)
    },
    async waitFor(what, match, opts = {}) {
      let last = ''
      try {
        return await waitUntil<string>(
          async () => {
            last = await capture()
            if (match(last)) return { state: 'done', value: last }
            const code = exitCode()
            if (code !== undefined) return { state: 'fail', reason: `the command exited (code ${code}) first` }
            return { state: 'retry' }
          },
          { what, timeoutMs: opts.timeoutMs ?? 30_000, minDelayMs: 50, maxDelayMs: 50, ...(opts.signal ? { signal: opts.signal } : {}) },
        )
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- the screen was ---\n${last}\n---`, { cause: error })
      }
    },
    async exited(opts = {}) {
      return waitUntil<number>(
        async () => {
          await capture()
          const code = exitCode()
          return code === undefined ? { state: 'retry' } : { state: 'done', value: code }
        },
        {
          what: `${options.command.join(' ')} to exit`,
          timeoutMs: opts.timeoutMs ?? 60_000,
          minDelayMs: 50,
          maxDelayMs: 100,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      )
    },
    async resize(columns, rows) {
      await t('resize-window', '-t', session, '-x', String(columns), '-y', String(rows))
    },
    async rawMode() {
      const { stdout: tty } = await t('display-message', '-p', '-t', session, '#{pane_tty}')
      const { stdout } = await run('stty', ['-F', tty.trim(), '-a'])
      return /(^|\s)-icanon(\s|$)/.test(stdout)
    },
    async cursorVisible() {
      const { stdout } = await t('display-message', '-p', '-t', session, '#{cursor_flag}')
      return stdout.trim() === '1'
    },
    async close() {
      await t('kill-server').catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
