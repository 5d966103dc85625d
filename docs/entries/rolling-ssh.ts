/**
 * Executor over SSH (pooled connections, strict host keys, bastion, sudo) and the release recipe. See the [package README](../../packages/ssh-deployer/README.md).
 *
 * @module @org/rolling-ssh
 */
export * from '../../packages/ssh-deployer/src/index.js'
