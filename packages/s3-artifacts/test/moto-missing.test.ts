// The S3 tests need moto: without it they must fail with a reason, never skip or pass.
import { describe, expect, it } from 'vitest'
import { motoMissing, startMotoS3 } from '../src/testing.js'

describe('startMotoS3 without moto', () => {
  it('throws naming the interpreter and what it lacks', async () => {
    const python = '/nonexistent/python3'
    expect(motoMissing({ python })).toMatch(/moto is not installed for \/nonexistent\/python3/)
    await expect(startMotoS3({ python })).rejects.toThrow(/moto-s3: moto is not installed for \/nonexistent\/python3 .*moto 5\.2\.1/)
  })

  it('finds moto on this machine', () => {
    expect(motoMissing()).toBeUndefined()
  })
})
