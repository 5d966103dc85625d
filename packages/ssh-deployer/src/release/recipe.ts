// The release recipe: the classic layout on a host (`<root>/releases/<version>`, a
// `current` symlink switched atomically, `previous`, `shared/`), with the artifact sent
// over SFTP or fetched by the host, its sha256 checked there before anything is switched.
// `prepare` does all of that while the host is in service; the deploy, out of service, is
// one command: check the prepared release is unchanged, switch, restart.
import { randomBytes } from 'node:crypto'
import {
  RollingError,
  ValidationError,
  type DeployArgs,
  type DeployRecipe,
  type ExecRequest,
  type RunningBuild,
  type StepArgs,
  type Target,
} from '@org/rolling-core'
import type { SshExecutor } from '../executor.js'
import { NOT_PREPARED, RELEASE_MARKER, activate, fetchTo, install, probe, prune, s3CopyTo, switchBack } from './commands.js'
import { validateRoot, validateSha256, validateSharedPath, validateVersion } from './validate.js'

export { RELEASE_MARKER }

/** What a restart/stop command may depend on; the same values are exported as ROLLING_* variables. */
export interface ReleaseContext {
  target: Target
  /** The host folder, `<root>`. */
  root: string
  /** `releases/<version>` of the build being deployed (or rolled back from). */
  release: string
  version: string
}

type Command = string | ((context: ReleaseContext) => string)

export interface ReleaseRecipeOptions {
  /** Absolute folder on the host holding `releases/`, `shared/`, `current`. A function may pick one per target. */
  root: string | ((target: Target) => string)
  /** Restarts the service on the new `current` (runs in `<root>`). @example 'sudo systemctl restart app' */
  restart: Command
  /** Stops the service gracefully (verify phase, for a host on a wrong build). No stop step without it. */
  stop?: Command
  /**
   * The verify phase's `version` step: a command printing the running version (a line, or
   * JSON `{ version, builtAt }`), or false for none.
   * @default reads `current/.rolling-release.json`, written by this recipe on install
   */
  version?: string | false
  /** Releases kept on the host (`current` and `previous` are never removed). @default 5 */
  keep?: number
  /** Paths under `<root>/shared` linked into every release (config files, log folders). @default [] */
  shared?: readonly string[]
  /**
   * How the artifact reaches the host: `'sftp'` streams a local file (a `path` location)
   * through `executor`; `'fetch'` has the host download a `url` location (curl or wget);
   * `'s3'` has the host copy the S3 object with the AWS CLI and its own (instance) role, so no
   * presigned URL reaches a command (SSM stores commands in clear: see the aws-ssm README);
   * `'copy'` has the host read a `path` location it can see itself (the core's local
   * executor and file store, a shared mount): nothing is transferred, the file is left as is.
   */
  transfer: 'sftp' | 'fetch' | 's3' | 'copy'
  /** The rollout's SSH executor; required for `transfer: 'sftp'`. */
  executor?: SshExecutor
  /** Folder on the host for the transferred file until it is unpacked (writable by the SSH user). @default '/tmp' */
  uploadDir?: string
  /** Bound on the transfer of one artifact. @default 600_000 */
  transferTimeoutMs?: number
  /** Bound on each restart or stop command. @default 120_000 */
  restartTimeoutMs?: number
}

export interface ReleaseRecipe extends DeployRecipe {
  rollback(args: StepArgs): Promise<void>
}

export function releaseRecipe(options: ReleaseRecipeOptions): ReleaseRecipe {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'expected an object')
  const keep = options.keep ?? 5
  if (!Number.isInteger(keep) || keep < 1) throw new ValidationError('keep', `expected an integer >= 1, got ${keep}`)
  if (!['sftp', 'fetch', 's3', 'copy'].includes(options.transfer))
    throw new ValidationError('transfer', `expected 'sftp', 'fetch', 's3' or 'copy', got ${JSON.stringify(options.transfer)}`)
  if (options.transfer === 'sftp' && typeof options.executor?.upload !== 'function') {
    throw new ValidationError('executor', "expected the rollout's sshExecutor: transfer 'sftp' uploads over its connections")
  }
  if (typeof options.root !== 'function') validateRoot(options.root)
  for (const [name, command] of [
    ['restart', options.restart],
    ['stop', options.stop],
  ] as const) {
    if (command === undefined && name === 'stop') continue
    if (!(typeof command === 'function' || (typeof command === 'string' && command.trim() !== ''))) {
      throw new ValidationError(name, `expected a command line or a function returning one, got ${JSON.stringify(command)}`)
    }
  }
  if (options.version !== undefined && options.version !== false && (typeof options.version !== 'string' || options.version.trim() === '')) {
    throw new ValidationError('version', `expected a command line or false, got ${JSON.stringify(options.version)}`)
  }
  const shared = (options.shared ?? []).map((p, i) => validateSharedPath(p, `shared[${i}]`))
  const uploadDir = validateRoot(options.uploadDir ?? '/tmp', 'uploadDir')
  const transferTimeoutMs = options.transferTimeoutMs ?? 600_000
  const restartTimeoutMs = options.restartTimeoutMs ?? 120_000
  for (const [name, value] of [
    ['transferTimeoutMs', transferTimeoutMs],
    ['restartTimeoutMs', restartTimeoutMs],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new ValidationError(name, `expected a finite number > 0, got ${value}`)
  }

  const rootOf = (target: Target) => validateRoot(typeof options.root === 'function' ? options.root(target) : options.root)
  const contextOf = (target: Target, version: string): ReleaseContext => ({ target, root: rootOf(target), release: `releases/${version}`, version })
  const step = (context: ReleaseContext, command: string, extra: Partial<ExecRequest> = {}): ExecRequest => ({
    command,
    cwd: context.root,
    env: { ROLLING_ROOT: context.root, ROLLING_RELEASE: context.release, ROLLING_VERSION: context.version },
    ...extra,
  })
  const userCommand = (command: Command, context: ReleaseContext) => {
    const line = typeof command === 'function' ? command(context) : command
    if (typeof line !== 'string' || line.trim() === '')
      throw new ValidationError('restart', `expected a command line for ${context.target.id}, got ${JSON.stringify(line)}`)
    return step(context, line, { timeoutMs: restartTimeoutMs })
  }

  const recipe: ReleaseRecipe = {
    // In service: transfer, sha256, unpack, shared links, prune. Nothing the service sees.
    async prepare(args: DeployArgs) {
      await ensureInstalled(args)
    },

    // Out of service: one command on the connection prepare opened. Without a prepared
    // release (a resume entering here, a recipe run without prepare) it installs first.
    async deploy(args: DeployArgs) {
      const { artifact, location, target, exec } = args
      const version = validateVersion(artifact.version, 'artifact.version')
      const sha256 = validateSha256(location.sha256, 'location.sha256')
      const context = contextOf(target, version)
      const restart = userCommand(options.restart, context)
      const switchAndRestart = () => exec({ ...restart, command: activate(version, sha256, restart.command) })
      if (!(await switchAndRestart()).stdout.includes(NOT_PREPARED)) return
      await ensureInstalled(args)
      if ((await switchAndRestart()).stdout.includes(NOT_PREPARED))
        throw new RollingError('ADAPTER', `[rolling:ssh] releases/${version} vanished from ${target.id} between its install and the switch`)
    },

    async rollback({ artifact, target, exec }: StepArgs) {
      const context = contextOf(target, validateVersion(artifact.version, 'artifact.version'))
      await exec(step(context, switchBack(context.version)))
      await exec(userCommand(options.restart, context))
    },
  }

  /** Installs releases/<v> unless it is there, whole and unchanged; then prunes. */
  async function ensureInstalled(args: DeployArgs): Promise<void> {
    const { artifact, location, target, exec } = args
    const version = validateVersion(artifact.version, 'artifact.version')
    const sha256 = validateSha256(location.sha256, 'location.sha256')
    const context = contextOf(target, version)
    const marker = JSON.stringify({ service: artifact.service, version, builtAt: artifact.builtAt, sha256 })
    const installing = (file: string, keepFile = false) => install({ file, version, sha256, marker, shared, root: context.root, keepFile })
    if (options.transfer === 'sftp') {
      if ((await exec(step(context, probe(version, sha256)))).stdout.includes('installed')) return void (await exec(step(context, prune(keep, version))))
      const file = tempFile(version)
      await transfer(args, file)
      await exec(step(context, `${installing(file)}\n${prune(keep, version)}`))
      return
    }
    // The host fetches (or reads) the build itself: probe, transfer and install are one command.
    let fetch: ExecRequest
    let file: string
    if (options.transfer === 'copy') {
      if (location.kind !== 'path') throw wrongLocation('copy', location.kind)
      file = location.path
      fetch = { command: ':' }
    } else {
      file = tempFile(version)
      fetch = fetchCommand(location, file)
    }
    const command = [
      `probed=$(${probe(version, sha256)}\n) || exit $?`,
      `case "$probed" in *installed*) ;; *)`,
      `( ${fetch.command}\n) || exit $?`,
      `( ${installing(file, options.transfer === 'copy')}\n) || exit $?`,
      ';; esac',
      prune(keep, version),
    ].join('\n')
    await exec(step(context, command, { timeoutMs: transferTimeoutMs + 5000, ...(fetch.secrets ? { secrets: fetch.secrets } : {}) }))
  }

  const tempFile = (version: string) => `${uploadDir}/rolling-${version}-${randomBytes(4).toString('hex')}.tgz`

  const wrongLocation = (transfer: string, kind: string) =>
    new RollingError(
      'ADAPTER',
      transfer === 'copy'
        ? `[rolling:ssh] transfer 'copy' needs a path the host can read, but the artifact store located a ${kind}; use transfer 'fetch'`
        : `[rolling:ssh] transfer '${transfer}' needs a URL or S3 object the host can download, but the artifact store located a ${kind}; use transfer 'sftp'`,
    )

  /** The host's download of a URL or S3 object; a presigned URL is masked wherever the command shows. */
  function fetchCommand(location: DeployArgs['location'], file: string): ExecRequest {
    if (location.kind !== 'url') throw wrongLocation(options.transfer, location.kind)
    const timeoutS = Math.ceil(transferTimeoutMs / 1000)
    if (options.transfer === 's3') {
      if (!location.s3)
        throw new RollingError('ADAPTER', "[rolling:ssh] transfer 's3' needs an S3 object, but the artifact store located a plain URL; use transfer 'fetch'")
      return { command: s3CopyTo(location.s3.bucket, location.s3.key, file, timeoutS) }
    }
    return { command: fetchTo(location.url, file, timeoutS), secrets: [location.url] }
  }

  async function transfer({ location, target, ctx }: DeployArgs, file: string): Promise<void> {
    if (location.kind !== 'path') {
      throw new RollingError(
        'ADAPTER',
        `[rolling:ssh] transfer 'sftp' needs a local path to upload, but the artifact store located a ${location.kind}; use transfer 'fetch'`,
      )
    }
    await (options.executor as SshExecutor).upload(target, location.path, file, ctx, { timeoutMs: transferTimeoutMs })
  }

  if (options.stop !== undefined) {
    const stop = options.stop
    recipe.stop = async ({ artifact, target, exec }) => {
      await exec(userCommand(stop, contextOf(target, safeVersion(artifact.version))))
    }
  }
  if (options.version !== false) {
    const command = options.version ?? `cat current/${RELEASE_MARKER}`
    recipe.version = async ({ artifact, target, exec }): Promise<RunningBuild> => {
      const { stdout } = await exec(step(contextOf(target, safeVersion(artifact.version)), command))
      return parseBuild(stdout, target)
    }
  }
  return recipe
}

/** The verify phase may hold any artifact; a bad name only feeds env values here, so fall back. */
function safeVersion(version: string): string {
  try {
    return validateVersion(version)
  } catch {
    return 'unknown'
  }
}

function parseBuild(stdout: string, target: Target): RunningBuild {
  const text = stdout.trim()
  if (text.startsWith('{')) {
    try {
      const data = JSON.parse(text) as { version?: unknown; builtAt?: unknown }
      if (typeof data.version === 'string') return { version: data.version, ...(typeof data.builtAt === 'string' ? { builtAt: data.builtAt } : {}) }
    } catch (error) {
      throw new RollingError('ADAPTER', `[rolling:ssh] unreadable release marker on ${target.id}: ${String(error)}`, { cause: error })
    }
  }
  const line = text.split('\n')[0]?.trim()
  if (!line) throw new RollingError('ADAPTER', `[rolling:ssh] the version command printed nothing on ${target.id}`)
  return { version: line }
}
