// @org/rolling-s3: the artifact store on S3 (publish, resolve latest, checksums, presigned URLs)
// and the rollout state shared across machines (lock lease with fencing, control channel).
export { s3Artifacts, type S3ArtifactStore, type S3ArtifactsOptions, type S3PublishOptions } from './s3-artifacts.js'
export type { Manifest } from './names.js'
export { s3State, type S3State, type S3StateOptions, type S3Journal, type S3Lock, type S3LockLease, type S3LockOptions } from './state/index.js'
export type { S3LockHolder } from './state/lock.js'
