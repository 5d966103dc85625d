// Test support for this store and for packages built on it: a fake S3 (s3rver) on loopback
// with client settings that suit it. Needs the optional peer dependency s3rver.
export { startFakeS3, type FakeS3, type FakeS3Options } from './testing/fake-s3.js'
