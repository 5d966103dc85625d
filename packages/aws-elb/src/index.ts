export { elbv2LoadBalancer, type Elbv2LoadBalancer, type Elbv2LoadBalancerOptions } from './load-balancer.js'
export { ElbError, type ElbErrorReason } from './errors.js'
export { isThrottling } from './api.js'
