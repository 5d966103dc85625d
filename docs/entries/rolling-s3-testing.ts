/**
 * moto's S3 on loopback (conditional writes enforced, as on S3) with the client settings it
 * needs, for testing code that uses the S3 artifact store or the S3 state without AWS.
 *
 * @module @org/rolling-s3/testing
 */
export * from '../../packages/s3-artifacts/src/testing.js'
