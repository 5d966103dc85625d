// Builds of the local fleet's app: a tarball holding app.mjs and its release.json, made
// once on the controller like a CI build would, then published to an artifact store.
// The knobs in release.json let failure tests ship a broken or slow-booting build.
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ValidationError } from '@org/rolling-core'

const run = promisify(execFile)

/** The app every release carries; `dist/app/app.mjs` once built, `src/app/app.mjs` from source. */
export const APP_FILE: string = fileURLToPath(new URL('./app/app.mjs', import.meta.url))

export interface ReleaseOptions {
  /** ISO-8601 build time written to release.json. @default now */
  builtAt?: string
  /** What `_status` answers: anything but 200 makes a broken build. @default 200 */
  statusCode?: number
  /** Simulated boot time before the app listens; overrides the fleet's setting. @default unset */
  startupDelayMs?: number
  /** A flapping build: from listening on, `_status` alternates 200 and 500, each this long. @default unset */
  flapMs?: number
  /** A build that dies: `_status` answers 200 for this long after listening, then 500. @default unset */
  failAfterMs?: number
}

export interface BuildReleaseOptions extends ReleaseOptions {
  /** Folder the tarball is written to (created if missing). */
  dir: string
  version: string
}

export interface Release {
  /** Absolute path of `app-<version>.tgz`. */
  file: string
  version: string
  builtAt: string
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/

/** Writes `<dir>/app-<version>.tgz` with app.mjs and release.json at its root. */
export async function buildRelease(options: BuildReleaseOptions): Promise<Release> {
  const { dir, version } = options
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new ValidationError('version', `expected a name of letters, digits, '.', '_', '+' or '-', got ${JSON.stringify(version)}`)
  }
  const builtAt = options.builtAt ?? new Date().toISOString()
  if (Number.isNaN(Date.parse(builtAt))) throw new ValidationError('builtAt', `expected an ISO-8601 date, got ${JSON.stringify(builtAt)}`)
  if (options.statusCode !== undefined && !(Number.isInteger(options.statusCode) && options.statusCode >= 100 && options.statusCode <= 599)) {
    throw new ValidationError('statusCode', `expected an HTTP status, got ${options.statusCode}`)
  }
  if (options.startupDelayMs !== undefined && !(Number.isFinite(options.startupDelayMs) && options.startupDelayMs >= 0)) {
    throw new ValidationError('startupDelayMs', `expected a finite number >= 0, got ${options.startupDelayMs}`)
  }
  for (const key of ['flapMs', 'failAfterMs'] as const) {
    const value = options[key]
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new ValidationError(key, `expected a finite number > 0, got ${value}`)
  }
  await mkdir(dir, { recursive: true })
  const stage = await mkdtemp(join(dir, `.stage-${version}-`))
  try {
    const release = {
      version,
      builtAt,
      ...(options.statusCode === undefined ? {} : { statusCode: options.statusCode }),
      ...(options.startupDelayMs === undefined ? {} : { startupDelayMs: options.startupDelayMs }),
      ...(options.flapMs === undefined ? {} : { flapMs: options.flapMs }),
      ...(options.failAfterMs === undefined ? {} : { failAfterMs: options.failAfterMs }),
    }
    await writeFile(join(stage, 'release.json'), `${JSON.stringify(release, null, 2)}\n`)
    await copyFile(APP_FILE, join(stage, 'app.mjs'))
    const file = join(dir, `app-${version}.tgz`)
    // Named files rather than `.`, so unpacking never touches the target folder's own mode or mtime.
    await run('tar', ['-czf', file, '-C', stage, 'app.mjs', 'release.json'])
    return { file, version, builtAt }
  } finally {
    await rm(stage, { recursive: true, force: true })
  }
}
