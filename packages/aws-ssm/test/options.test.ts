// Options are validated once, at the factory, with messages that name the option and the value.
import { describe, expect, it } from 'vitest'
import { ssmExecutor } from '../src/index.js'

const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }

describe('ssmExecutor options', () => {
  it.each([
    [{ pollMs: 0 }, /`pollMs`: expected a finite number of milliseconds >= 1, got 0/],
    [{ executionTimeoutSec: 200_000 }, /`executionTimeoutSec`: expected an integer in 1..172800, got 200000/],
    [{ maxBatchSize: 51 }, /`maxBatchSize`: expected an integer in 1..50, got 51/],
    [{ deliveryTimeoutSec: 10 }, /`deliveryTimeoutSec`/],
    [{ outputS3: { bucket: '' } }, /`outputS3.bucket`/],
  ])('rejects %o', (options, message) => {
    expect(() => ssmExecutor({ clientConfig, ...options })).toThrow(message)
  })

  it('rejects a bad request before any call', async () => {
    const ssm = ssmExecutor({ clientConfig })
    const ctx = { signal: new AbortController().signal, clock: { now: Date.now } as never, log: console }
    await expect(ssm.run({ id: 'i-1', address: 'x' }, { command: ' ' }, ctx)).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(ssm.run({ id: 'i-1', address: 'x' }, { command: 'true', env: { 'A-B': '1' } }, ctx)).rejects.toThrow(/`env`/)
    await ssm.close?.()
  })
})
