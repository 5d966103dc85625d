// @org/rolling-core/adapter: what an adapter author calls while implementing a contract
// (the contracts themselves, the error classes and the shell quoting are in the main entry).
// One waiter for every poll, one child signal and one race against abort, the output stream
// with masking and caps, the remote-command building blocks, the tarball check, and the
// option checks that word every adapter's errors alike.
export { waitUntil, type WaitOptions, type WaitState } from './waiter.js'
export { childSignal, raceAbort, type ChildSignal, type ChildSignalOptions } from './signals.js'
// For adapters whose many calls share a caller's signal: one listener on it, a child signal per call.
export { SignalFanout, type Scope } from './signals.js'
export { sleepOn } from './clock.js'
export { abortReason, throwIfAborted, isAbortError, describeTarget, errorMessage } from './errors.js'
export { OutputStream, truncate } from './output.js'
export { maskSecrets, pipeText, curlConfig, stdinScript } from './shell.js'
export { unpackChecked, type UnpackCheckedOptions } from './unpack.js'
export { MAX_TIMER_MS, checkMs, checkOptionalMs, checkKeys, closest, failOption, showValue, type CheckMsOptions } from './validate.js'
export { checkAmount } from './options.js'
