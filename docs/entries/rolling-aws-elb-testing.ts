/**
 * A wire-level fake of ELBv2 and EC2 on loopback, for testing code that uses the ELBv2 adapter without AWS.
 *
 * @module @org/rolling-aws-elb/testing
 */
export * from '../../packages/aws-elb/src/testing.js'
