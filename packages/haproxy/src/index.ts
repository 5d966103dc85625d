// Public API of @org/rolling-haproxy: the load balancer adapter, the Runtime API client,
// and helpers to run a private HAProxy (local fleet, demo, tests).
export { haproxyLoadBalancer, type HaproxyLoadBalancer, type HaproxyLoadBalancerOptions } from './load-balancer.js'
export { runtimeApi, type RuntimeApi, type RuntimeApiOptions, type CallOptions } from './runtime-api.js'
export { startHaproxy, findHaproxy, freePort, renderHaproxyConfig, type StartHaproxyOptions, type HaproxyProcess, type HaproxyServerSpec } from './process.js'
export { HaproxyError, type HaproxyErrorReason } from './errors.js'
export { parseServersState, parseStat, isReady, isUp, inMaint, inDrain, OpState, AdminFlag, type ServerState, type ServerStat } from './parse.js'
