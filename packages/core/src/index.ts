// Public API of @org/rolling-core: what users call (rollout, plan, resume and their options,
// results, events and hooks; gates and control; the local adapters, journals and locks) and
// the contracts an adapter implements. The helpers an adapter calls are on
// `@org/rolling-core/adapter`; the test kit on `@org/rolling-core/testing`. The list is
// documented in the package README.
export type * from './types.js'
export { RollingError, ValidationError, AbortError, TimeoutError, type ErrorCode } from './errors.js'
export type { StepArgs, DeployArgs, RunningBuild, DeployRecipe, DeployFunction } from './recipe.js'
export { shellQuote, sh } from './shell.js'
export { systemClock } from './clock.js'
export { validateOptions, type Amount, type SettleOptions, type DrainOptions, type Timeouts, type RolloutOptions, type ResolvedSettle } from './options.js'
export { OPTION_KEYS, SETTLE_KEYS, DRAIN_KEYS } from './option-keys.js'
export type * from './result.js'
export type { RolloutEventMap, RolloutEventName, RolloutEvent } from './events.js'
export { PhaseTracker, type PhaseChange, type PhaseEnd } from './phase-tracker.js'
export type * from './hooks.js'
export { rollout, resume, plan, breakLock, journalFile, type RolloutRun, type ResumeOptions, type Plan } from './rollout.js'
export { resolveOptions, DEFAULT_STATE_DIR, type ResolvedOptions } from './resolve.js'
export { batchSizes, planBatches, zoneGroups, zonesOf, type ZonePlan, type BatchPlanOptions } from './plan.js'
export { fileJournal, memoryJournal, type Journal, type JournalRecord, type StoredRecord } from './journal.js'
export type {
  StartRecord,
  BatchRecord,
  TargetRecord,
  ExtraRecord,
  VerifyRecord,
  PauseRecord,
  ReleaseRecord,
  GateRecord,
  EndRecord,
  StopRecord,
  RecordedState,
} from './journal-records.js'
export { readJournal, type JournalRun } from './journal-reader.js'
export { FINAL_STATES, OUT_OF_SERVICE, type TargetState } from './target-state.js'
export type { ControlChannel, ControlMessage, StateStore } from './control.js'
export { fileLock, memoryLock, isProcessAlive, LockedError, type Lock, type LockLease, type LockHolder, type AcquireOptions } from './lock.js'
export { localExecutor, type LocalExecutorOptions } from './local/executor.js'
export { fileArtifacts, type FileArtifactStore, type FileArtifactsOptions } from './local/file-artifacts.js'
export { httpHealthCheck, type HttpHealthCheck, type HttpHealthCheckOptions } from './health/http.js'
export {
  runGate,
  runGates,
  gateFailure,
  DEFAULT_GATE_INTERVAL,
  type Gate,
  type GateContext,
  type GateState,
  type GateVerdict,
  type GateOutcome,
  type GateRunOptions,
} from './gates/gate.js'
export { httpGate, type HttpGate, type HttpGateOptions, type HttpGateExpect, type JsonScalar } from './gates/http.js'
export {
  parseDuration,
  deadlineMs,
  resolvePause,
  pausesAfter,
  resolveVerify,
  failureBudget,
  DEFAULT_PAUSE_TIMEOUT,
  type ControlOptions,
  type PauseOptions,
  type VerifyOptions,
  type ResolvedPause,
} from './control-options.js'
export { fileControl } from './local/file-control.js'
export {
  ApprovalBox,
  pauseFor,
  openPause,
  releasedPauses,
  skipOldMessages,
  abortRequested,
  sender,
  CONTROL_POLL_MS,
  type PauseEnd,
  type PauseRelease,
  type PauseDeps,
} from './pause.js'
