// Public API of the custom adapter example: tinylb (a small HTTP load balancer), the
// LoadBalancer adapter for it, and the tiny app the demo and tests put behind it.
export { tinyLbLoadBalancer, type TinyLbLoadBalancer, type TinyLbLoadBalancerOptions } from './adapter.js'
export { TinyLbError, type TinyLbErrorReason } from './errors.js'
export { startTinyLb, type TinyLb, type TinyLbBackend, type TinyLbBackendSpec, type TinyLbOptions } from './tinylb.js'
export { startApp, type App, type AppOptions } from './app.js'
