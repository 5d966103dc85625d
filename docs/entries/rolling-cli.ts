/**
 * The `rolling` command (`plan`, `deploy`, `resume`, `status`, `unlock`) and `defineConfig` for `rollout.config.ts`.
 *
 * @module @org/rolling-cli
 */
export * from '../../packages/cli/src/index.js'
