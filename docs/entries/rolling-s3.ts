/**
 * ArtifactStore on S3: publish, resolve latest, checksums, presigned URLs. See the [package README](../../packages/s3-artifacts/README.md).
 *
 * @module @org/rolling-s3
 */
export * from '../../packages/s3-artifacts/src/index.js'
