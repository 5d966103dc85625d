// Public API of @org/rolling-core.
export * from './types.js'
export * from './errors.js'
export * from './recipe.js'
export { shellQuote, sh, maskSecrets, pipeText, curlConfig, stdinScript } from './shell.js'
export { unpackChecked, type UnpackCheckedOptions } from './unpack.js'
export { OutputStream, truncate } from './output.js'
export { systemClock, sleepOn } from './clock.js'
export { childSignal, raceAbort, type ChildSignal, type ChildSignalOptions } from './signals.js'
export { waitUntil, type WaitOptions, type WaitState } from './waiter.js'
// For adapters that many calls share a caller's signal through: one listener on it, a child signal per call.
export { SignalFanout, type Scope } from './signals.js'
export * from './options.js'
export { OPTION_KEYS, SETTLE_KEYS, DRAIN_KEYS } from './option-keys.js'
// For adapter authors: one wording and one timer ceiling for every adapter's options.
export { MAX_TIMER_MS, checkMs, checkOptionalMs, checkKeys, closest, failOption, showValue, type CheckMsOptions } from './validate.js'
export * from './result.js'
export * from './events.js'
export { PhaseTracker, type PhaseChange, type PhaseEnd } from './phase-tracker.js'
export * from './hooks.js'
export { rollout, resume, plan, breakLock, journalFile, type RolloutRun, type ResumeOptions, type Plan } from './rollout.js'
export { resolveOptions, DEFAULT_STATE_DIR, type ResolvedOptions } from './resolve.js'
export { amountOf, batchSizes, splitBatches, planBatches, zoneGroups, zonesOf, type ZonePlan, type BatchPlanOptions } from './plan.js'
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
export { readJournal, TRANSITIONS, type JournalRun } from './journal-reader.js'
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
