/**
 * Executor over AWS SSM Run Command. See the [package README](../../packages/aws-ssm/README.md).
 *
 * @module @org/rolling-aws-ssm
 */
export * from '../../packages/aws-ssm/src/index.js'
