// What the CLI tests share: a throwaway project folder (package.json, rollout.config.ts and
// the file-backed fleet), `main` run in-process on captured streams, and the real bin run
// in a child process (node with tsx and the @org/source condition), as a person would.
import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { waitUntil } from '@org/rolling-core/adapter'
import { main } from '../../src/index.js'
import { type FleetOptions, type FleetState, readFleet, writeFleet } from '../fixtures/file-fleet.js'

export const CLI_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURES = join(CLI_ROOT, 'test/fixtures')
export const BIN_SOURCE = join(CLI_ROOT, 'src/bin.ts')
export const BIN_DIST = join(CLI_ROOT, 'dist/bin.js')
/** tsx's loader, resolved from the workspace: the project folder is outside it. */
export const TSX = pathToFileURL(createRequire(join(CLI_ROOT, 'package.json')).resolve('tsx')).href

export interface Project {
  dir: string
  fleetFile: string
  fleet(): FleetState
  write(name: string, text: string): string
  remove(): void
}

/**
 * A project folder in the system temp dir: an ESM package.json, a rollout.config.ts that
 * re-exports the fleet fixture (so its imports resolve in the workspace), and fleet.json.
 */
export function makeProject(fleet: FleetOptions, config?: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'rolling-cli-'))
  const write = (name: string, text: string) => {
    const file = join(dir, name)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text)
    return file
  }
  write('package.json', '{ "type": "module", "private": true }\n')
  write('rollout.config.ts', config ?? `export { default } from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}\n`)
  const fleetFile = join(dir, 'fleet.json')
  writeFleet(fleetFile, fleet)
  return { dir, fleetFile, fleet: () => readFleet(fleetFile), write, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A writable that keeps what it is given. */
export class Capture extends Writable {
  readonly chunks: string[] = []
  isTTY?: boolean
  constructor(options: { isTTY?: boolean } = {}) {
    super()
    if (options.isTTY !== undefined) this.isTTY = options.isTTY
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(String(chunk))
    callback()
  }
  /** Resolves once the output holds `text`; fails after `timeoutMs` naming what was awaited. */
  waitFor(text: string, timeoutMs = 10_000): Promise<void> {
    return waitUntil(async () => (this.text().includes(text) ? { state: 'done', value: undefined } : { state: 'retry' }), {
      what: `the output to show '${text}'`,
      timeoutMs,
      minDelayMs: 10,
      maxDelayMs: 20,
    })
  }
  text(): string {
    return this.chunks.join('')
  }
  lines(): string[] {
    return this.text()
      .split('\n')
      .filter((line) => line !== '')
  }
}

export interface MainRun {
  code: number
  stdout: Capture
  stderr: Capture
}

export interface MainOptions {
  cwd: string
  env?: Record<string, string | undefined>
  signals?: EventEmitter
  stdout?: Capture
}

/** Runs `main` in-process; CI and GITHUB_STEP_SUMMARY are unset unless given. */
export async function runMain(argv: string[], options: MainOptions): Promise<MainRun> {
  const stdout = options.stdout ?? new Capture()
  const stderr = new Capture()
  const code = await main(argv, {
    stdout,
    stderr,
    cwd: options.cwd,
    env: options.env ?? {},
    signals: options.signals ?? new EventEmitter(),
  })
  return { code, stdout, stderr }
}

/**
 * Plain output lines without what changes from run to run: the elapsed-time prefix,
 * run ids and measured durations.
 */
export function normalise(lines: readonly string[]): string[] {
  return lines.map((line) =>
    line
      .replace(/^\s*\d+\.\d+s {2}/, '')
      .replace(/r-[a-z0-9]+-[0-9a-f]{6}/g, 'RUN')
      .replace(/\b\d+(\.\d+)?(ms|s)\b/g, 'T')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, (iso) => (iso === '2026-01-01T00:00:00.000Z' ? iso : 'TIME')),
  )
}

export interface BinRun {
  child: ChildProcess
  stdout: string
  stderr: string
  /** Resolves with the exit code (or 128 + signal number when killed). */
  exited: Promise<number>
  /** Waits until stdout matches, or fails naming what it waited for and what it saw. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
}

/** Runs the `rolling` bin from source in a child process, with pipes for stdout and stderr. */
export function runBin(argv: string[], options: { cwd: string; env?: Record<string, string>; dist?: boolean; nodeArgs?: string[] }): BinRun {
  const args = [...(options.nodeArgs ?? []), ...(options.dist ? [BIN_DIST, ...argv] : ['--conditions', '@org/source', '--import', TSX, BIN_SOURCE, ...argv])]
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env }
  const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: BinRun = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolveExit) => {
      child.on('exit', (code, signal) => resolveExit(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9)))
    }),
    async waitFor(pattern, timeoutMs = 20_000) {
      await waitUntil(async () => (pattern.test(run.stdout) ? { state: 'done', value: true } : { state: 'retry', observed: run.stdout.slice(-500) }), {
        what: `stdout to match ${pattern}`,
        timeoutMs,
        minDelayMs: 20,
        maxDelayMs: 50,
      })
    },
  }
  child.stdout?.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString()
  })
  return run
}

/** Exits within `ms` or fails the test, killing the child so nothing is left running. */
export async function exitWithin(run: BinRun, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL')
      reject(new Error(`the CLI did not exit within ${ms}ms; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`))
    }, ms)
  })
  try {
    return await Promise.race([run.exited, late])
  } finally {
    clearTimeout(timer)
  }
}
