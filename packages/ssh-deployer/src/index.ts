// Public API of @org/rolling-ssh: an Executor over SSH (pooled connections, strict host
// keys, bastion hosts, sudo, SFTP uploads) and a release recipe built on it.
export { sshExecutor, type SshExecutor, type HostStats, type UploadOptions } from './executor.js'
export type { SshExecutorOptions, BastionOptions, Credentials, PerTarget } from './options.js'
export { type HostKeyPolicy, type PinnedFingerprints, fingerprintOf, knownHostsName, parseKnownHosts, hostMatches } from './host-keys.js'
export { remoteCommand, remoteScript } from './command.js'
export { SshError, type SshFailure } from './errors.js'
export type { UploadResult } from './upload.js'
export { releaseRecipe, type ReleaseRecipeOptions, type ReleaseRecipe, RELEASE_MARKER } from './release/recipe.js'
export { validateVersion, validateSharedPath } from './release/validate.js'
