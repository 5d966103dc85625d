// Public API of @org/rolling-core.
export * from './types.js'
export * from './errors.js'
export * from './recipe.js'
export { shellQuote, sh, maskSecrets } from './shell.js'
export { systemClock, sleepOn, deadlineSignal } from './clock.js'
export { waitUntil, type WaitOptions, type WaitState } from './waiter.js'
