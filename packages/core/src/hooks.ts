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

/** `beforeBatch` and `afterBatch`: the batch about to start, or just ended. */
export interface BatchHookArgs extends HookContext {
  index: number
  total: number
  targets: readonly Target[]
}

/** `beforeTarget` and `afterDeploy`: one target of a batch. */
export interface TargetHookArgs extends HookContext {
  target: Target
  batch: number
}

/** `beforeAttach`: a target whose settle just passed, with what its health check said. */
export interface BeforeAttachArgs extends TargetHookArgs {
  health: Health
}

/** `beforeVerify`: the targets in service that verify is about to check. */
export interface VerifyHookArgs extends HookContext {
  targets: readonly Target[]
}

export interface Hooks {
  /** Before a batch starts. Throwing halts the rollout; the batch is not touched. */
  beforeBatch?(args: BatchHookArgs): Promise<void> | void
  /** After a batch ends, with its targets' outcomes. Throwing halts the rollout. */
  afterBatch?(args: BatchHookArgs): Promise<void> | void
  /** Before a target is detached (its pre-check passed). Throwing skips the target untouched. */
  beforeTarget?(args: TargetHookArgs): Promise<void> | void
  /** After the deploy step succeeded, before settling. Throwing fails the target (it stays detached). */
  afterDeploy?(args: TargetHookArgs): Promise<void> | void
  /** After the health check passed, before attaching. Throwing fails the target (it stays detached). */
  beforeAttach?(args: BeforeAttachArgs): Promise<void> | void
  /** Before the verify phase. Throwing fails the rollout. */
  beforeVerify?(args: VerifyHookArgs): Promise<void> | void
}

export type HookName = keyof Hooks
