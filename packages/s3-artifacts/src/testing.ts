// Test support for this store and for packages built on it: moto's S3 on loopback (it enforces
// conditional writes, as S3 does), with the client settings that suit it. Needs Python with
// moto[server]; without it `startMotoS3` throws (see `motoMissing`).
export { startMotoS3, motoMissing, type MotoS3, type MotoS3Options } from './testing/moto.js'
export { countWire, type WireCount, type WireRequest } from './testing/wire-count.js'
