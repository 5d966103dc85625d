/**
 * A wire-level fake of SSM Run Command on loopback (JSON protocol) that really runs the commands
 * in local host folders, for testing code that uses the SSM executor without AWS.
 *
 * @module @org/rolling-aws-ssm/testing
 */
export * from '../../packages/aws-ssm/src/testing.js'
