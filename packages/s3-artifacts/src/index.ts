// @org/rolling-s3: the artifact store on S3 (publish, resolve latest, checksums, presigned URLs).
export { s3Artifacts, type S3ArtifactStore, type S3ArtifactsOptions, type S3PublishOptions } from './s3-artifacts.js'
export type { Manifest } from './names.js'
