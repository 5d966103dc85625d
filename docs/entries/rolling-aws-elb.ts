/**
 * LoadBalancer adapter for ELBv2 target groups (ALB/NLB). See the [package README](../../packages/aws-elb/README.md).
 *
 * @module @org/rolling-aws-elb
 */
export * from '../../packages/aws-elb/src/index.js'
