/**
 * LoadBalancer adapter over the HAProxy Runtime API, and a private HAProxy runner. See the [package README](../../packages/haproxy/README.md).
 *
 * @module @org/rolling-haproxy
 */
export * from '../../packages/haproxy/src/index.js'
