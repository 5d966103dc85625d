// Where a command keeps the rollout state: the state folder by default, or a StateStore shared by
// every machine: `--state s3://bucket/prefix` or the config's `state` (that URL, or a store such
// as `s3State({...})`). An S3 URL opens `@org/rolling-s3` (an optional peer dependency) with the
// AWS SDK's usual settings: credentials, AWS_REGION, AWS_ENDPOINT_URL_S3.
import type { StateStore } from '@org/rolling-core'
import type { LoadedConfig } from './config/load.js'
import { ConfigError, UsageError } from './errors.js'

export interface OpenedState {
  store: StateStore
  /** Closes what was opened here (the S3 client of a URL); a store from the config is its owner's. */
  close(): void
}

// S3's bucket naming rules; a prefix of plain key characters, no `..` and no empty segment.
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/((?:[A-Za-z0-9!_.*'()+=-]+\/)*[A-Za-z0-9!_.*'()+=-]*))?$/

/** `s3://bucket/prefix` as bucket and prefix (the prefix ends in `/`, or is empty); undefined when it is not one. */
export function parseStateUrl(text: string): { bucket: string; prefix: string } | undefined {
  const match = S3_URL.exec(text)
  if (!match || text.includes('..') || text.includes('//', 5)) return undefined
  const prefix = match[2] ?? ''
  return { bucket: match[1] as string, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` }
}

export const STATE_EXPECTED = 'an S3 URL s3://bucket/prefix (for a folder, use --state-dir or `stateDir`)'

/**
 * The store `--state` (first) or the config's `state` names; undefined for the state folder.
 * `shown` is the config file as errors name it.
 */
export async function openState(flag: string | undefined, configured: unknown, shown: string): Promise<OpenedState | undefined> {
  if (flag !== undefined) {
    const url = parseStateUrl(flag)
    if (!url) throw new UsageError(`invalid --state '${flag}': expected ${STATE_EXPECTED}`)
    return openS3(url, `--state ${flag}`)
  }
  if (configured === undefined) return undefined
  if (typeof configured === 'string') {
    const url = parseStateUrl(configured)
    if (!url) throw new ConfigError(`${shown}: \`state\` expected ${STATE_EXPECTED} or a state store such as s3State({ bucket, prefix }), got ${JSON.stringify(configured)}`)
    return openS3(url, `${shown}: \`state\``)
  }
  const store = configured as Partial<StateStore> | null
  if (typeof store !== 'object' || store === null || typeof store.journal !== 'function' || typeof store.lock?.acquire !== 'function') {
    throw new ConfigError(`${shown}: \`state\` expected ${STATE_EXPECTED} or a state store (location, lock, journal(service), control), got ${describe(configured)}`)
  }
  return { store: store as StateStore, close: () => {} }
}

/**
 * The store of a command: `--state` first, then `--state-dir` (the folder: undefined), then the
 * config's `state`, which cannot come with the config's own `lock`, `journal` or `stateDir`.
 */
export async function stateFor(loaded: Pick<LoadedConfig, 'config' | 'shown'> | undefined, args: { state?: string; stateDir?: string }): Promise<OpenedState | undefined> {
  if (args.state !== undefined) return openState(args.state, undefined, '--state')
  const configured: unknown = loaded?.config.state
  if (args.stateDir !== undefined || configured === undefined || !loaded) return undefined
  for (const key of ['lock', 'journal', 'stateDir'] as const) {
    if (loaded.config[key] !== undefined) {
      throw new ConfigError(`${loaded.shown}: \`state\` and \`${key}\` cannot both be set: the state store holds the lock and the journals`)
    }
  }
  return openState(undefined, configured, loaded.shown)
}

async function openS3(url: { bucket: string; prefix: string }, source: string): Promise<OpenedState> {
  let s3: typeof import('@org/rolling-s3')
  try {
    s3 = await import('@org/rolling-s3')
  } catch (error) {
    throw new ConfigError(`${source}: the S3 state needs @org/rolling-s3: install it next to @org/rolling-cli (${(error as Error).message})`, { cause: error })
  }
  const store = s3.s3State({ bucket: url.bucket, prefix: url.prefix })
  return { store, close: () => store.destroy() }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`
  return `${typeof value} ${String(value)}`
}
