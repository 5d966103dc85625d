// Finds and loads rollout.config.{ts,mts,js,mjs}. JavaScript is imported natively. TypeScript
// is imported natively when the runtime can (a TypeScript loader such as tsx, or Node's own
// type stripping), and otherwise through jiti, as ESLint, Tailwind and Nuxt load theirs.
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CliCommand, ConfigEnv, RollingConfig } from './define.js'
import { ConfigError, messageOf } from '../errors.js'

export const CONFIG_NAMES = ['rollout.config.ts', 'rollout.config.mts', 'rollout.config.js', 'rollout.config.mjs'] as const

export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string
  /** The file as the user should read it in messages: relative to the working directory when inside it. */
  shown: string
  config: RollingConfig
}

export interface LoadOptions {
  cwd: string
  command: CliCommand
  env: Readonly<Record<string, string | undefined>>
  /** `--config`, as typed. */
  explicit?: string
  /** How to load TypeScript. @default 'auto' (native when the runtime can, else jiti) */
  loader?: 'auto' | 'jiti'
}

/** The config file to use, or a ConfigError saying what was looked for. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit)
    if (!existsSync(file)) throw new ConfigError(`${explicit}: config file not found`)
    if (!statSync(file).isFile()) throw new ConfigError(`${explicit}: not a file`)
    return file
  }
  for (const name of CONFIG_NAMES) {
    const file = resolve(cwd, name)
    if (existsSync(file)) return file
  }
  throw new ConfigError(`no config file: looked for ${CONFIG_NAMES.join(', ')} in ${cwd}; pass --config <file>`)
}

export function showPath(cwd: string, file: string): string {
  const rel = relative(cwd, file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

/** Loads the config: imports the file, takes its default export, calls it if it is a function. */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const file = findConfig(options.cwd, options.explicit)
  const shown = showPath(options.cwd, file)
  let module: Record<string, unknown>
  try {
    module = await importFile(file, options.loader ?? 'auto')
  } catch (error) {
    // The loader names the file by its absolute path; the message names it as the user typed it.
    throw new ConfigError(`${shown}: cannot load the config: ${firstLine(messageOf(error)).replaceAll(file, shown)}`, { cause: error })
  }
  if (!('default' in module) || module.default === undefined) {
    throw new ConfigError(`${shown}: no default export; write \`export default defineConfig({ ... })\``)
  }
  let config: unknown = module.default
  if (typeof config === 'function') {
    const env: ConfigEnv = { command: options.command, env: options.env, cwd: options.cwd, file }
    try {
      config = await (config as (env: ConfigEnv) => unknown)(env)
    } catch (error) {
      throw new ConfigError(`${shown}: the config function threw: ${firstLine(messageOf(error))}`, { cause: error })
    }
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(`${shown}: the default export must be a config object or a function returning one, got ${describe(config)}`)
  }
  return { file, shown, config: config as RollingConfig }
}

// Codes of a native import that failed because the runtime cannot load this TypeScript
// file itself (no loader, or syntax type stripping does not cover), not because of the file.
const NOT_NATIVE = new Set([
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING',
  'ERR_INVALID_TYPESCRIPT_SYNTAX',
  'ERR_MODULE_NOT_FOUND', // extensionless relative imports work under jiti, not under type stripping
])

let loads = 0

async function importFile(file: string, loader: 'auto' | 'jiti'): Promise<Record<string, unknown>> {
  const typescript = /\.[mc]?ts$/.test(file)
  if (!typescript || loader === 'auto') {
    try {
      // A fresh URL each load: a process that loads a config twice (main() embedded, tests)
      // gets the file as it is now, not the module it cached the first time.
      return (await import(`${pathToFileURL(file).href}?load=${++loads}`)) as Record<string, unknown>
    } catch (error) {
      if (!typescript || !NOT_NATIVE.has((error as { code?: string }).code ?? '')) throw error
    }
  }
  // moduleCache off: each load reads the file afresh (tests and watch-like uses load it again).
  // Loaded only here: a JavaScript config, or TypeScript under a loader, never needs it.
  const { createJiti } = await import('jiti')
  const jiti = createJiti(import.meta.url, { moduleCache: false, interopDefault: false })
  return (await jiti.import(file)) as Record<string, unknown>
}

// Built from a string: biome refuses a control character in a regex literal.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')

/**
 * A loader's message on one line. Loaders put the location on a line of its own
 * ("Transform failed with 1 error:\n<file>:2:17: ERROR: ..."), so a few lines are kept.
 */
function firstLine(text: string): string {
  const lines = text
    // Colours a loader put in for a terminal, and the cache-busting query of the import.
    .replace(ANSI_COLOUR, '')
    .replace(/\?load=\d+/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
  const end = lines.findIndex((line) => line.startsWith('at '))
  return (end === -1 ? lines : lines.slice(0, end)).slice(0, 3).join(' ')
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string '${value}'`
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}
