/**
 * A fake S3 (s3rver) on loopback with the client settings it needs, for testing code that uses
 * the S3 artifact store without AWS.
 *
 * @module @org/rolling-s3/testing
 */
export * from '../../packages/s3-artifacts/src/testing.js'
