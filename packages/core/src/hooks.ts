// Hooks are awaited, in order, and may veto by throwing (an approval gate, a
// smoke test) or pause by not resolving yet. Events, by contrast, only report.
import type { Artifact, Health, Target } from './types.js'

export interface HookContext {
  service: string
  runId: string
  artifact: Artifact
  /** Aborted when the rollout is aborted: a paused hook should give up then. */
  signal: AbortSignal
}

export interface Hooks {
  /** Before a batch starts. Throwing halts the rollout; the batch is not touched. */
  beforeBatch?(args: HookContext & { index: number; total: number; targets: readonly Target[] }): Promise<void> | void
  /** After a batch ends, with its targets' outcomes. Throwing halts the rollout. */
  afterBatch?(args: HookContext & { index: number; total: number; targets: readonly Target[] }): Promise<void> | void
  /** Before a target is detached (its pre-check passed). Throwing skips the target untouched. */
  beforeTarget?(args: HookContext & { target: Target; batch: number }): Promise<void> | void
  /** After the deploy step succeeded, before settling. Throwing fails the target (it stays detached). */
  afterDeploy?(args: HookContext & { target: Target; batch: number }): Promise<void> | void
  /** After the health check passed, before attaching. Throwing fails the target (it stays detached). */
  beforeAttach?(args: HookContext & { target: Target; batch: number; health: Health }): Promise<void> | void
  /** Before the verify phase. Throwing fails the rollout. */
  beforeVerify?(args: HookContext & { targets: readonly Target[] }): Promise<void> | void
}

export type HookName = keyof Hooks
