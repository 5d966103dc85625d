// The journal and the lock of a service, for `status` and `unlock`: from the config when
// there is one, else from the service named on the command line and the state folder.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type ControlChannel, type Journal, type Lock, fileControl, fileJournal, fileLock, journalFile } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { CONFIG_NAMES, type LoadedConfig, loadConfig } from '../config/load.js'
import { stateDirOf } from '../config/options.js'
import { ConfigError, UsageError } from '../errors.js'
import { stateFor } from '../state.js'

export interface ServiceState {
  service: string
  stateDir: string
  journal: Journal
  lock: Lock
  /** Whether a config file was read (named, or found in the working directory). */
  hasConfig: boolean
  /** Where `rolling approve` / `rolling abort` send: the shared store's (`--state`), the config's `control`, else a folder in the state folder. */
  control: ControlChannel
  /** Closes what was opened for the command (the client of an S3 store). */
  close(): void
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export async function serviceState(command: 'status' | 'unlock' | 'approve' | 'abort', args: ParsedArgs, io: CliIo): Promise<ServiceState> {
  // With a service named and no --config, a config is optional: read it only if there is one.
  const wantConfig = args.config !== undefined || args.service === undefined || CONFIG_NAMES.some((name) => existsSync(resolve(io.cwd, name)))
  const loaded: LoadedConfig | undefined = wantConfig
    ? await loadConfig({ cwd: io.cwd, command, env: io.env, ...(args.config === undefined ? {} : { explicit: args.config }) })
    : undefined
  const service = args.service ?? loaded?.config.service
  if (args.service !== undefined && !SERVICE.test(args.service)) {
    throw new UsageError(`rolling ${command}: invalid service '${args.service}': expected a name of letters, digits, '.', '_' or '-'`)
  }
  if (typeof service !== 'string' || !SERVICE.test(service)) {
    throw new ConfigError(`${loaded?.shown ?? 'config'}: \`service\` expected a name of letters, digits, \`.\`, \`_\` or \`-\`, got ${JSON.stringify(service)}`)
  }
  const stateDir = stateDirOf(loaded, io.cwd, args.stateDir)
  // A shared store (`--state s3://…`, config `state`) holds every service's lock and journal.
  const opened = await stateFor(loaded, args)
  if (opened) {
    const store = opened.store
    return { service, stateDir, journal: store.journal(service), lock: store.lock, control: store.control, hasConfig: loaded !== undefined, close: opened.close }
  }
  // A journal object in the config is that service's; another service's lives in the folder.
  const ownJournal = loaded?.config.journal !== undefined && loaded.config.service === service ? loaded.config.journal : undefined
  return {
    service,
    stateDir,
    journal: ownJournal ?? fileJournal(journalFile(stateDir, service)),
    lock: loaded?.config.lock ?? fileLock({ dir: stateDir }),
    hasConfig: loaded !== undefined,
    control: loaded?.config.control ?? fileControl({ dir: stateDir }),
    close: () => {},
  }
}
