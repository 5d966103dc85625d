// Test support for this store and for packages built on it: a fake S3 (s3rver) on loopback
// with client settings that suit it (needs the optional peer dependency s3rver), and moto's S3,
// which enforces conditional writes (needs Python with moto; see `motoMissing`).
export { startFakeS3, type FakeS3, type FakeS3Options } from './testing/fake-s3.js'
export { startMotoS3, motoMissing, type MotoS3, type MotoS3Options } from './testing/moto.js'
