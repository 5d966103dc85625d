// Concurrent publishes of one version against moto, which enforces `If-None-Match` as S3 does
// (an endpoint that ignores it could not show this race). The manifest's conditional write must be the one
// commit point: the manifest always describes the bytes it points to, one publisher wins.
import { createHash, randomBytes } from 'node:crypto'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3Artifacts, type S3ArtifactStore } from '../src/index.js'
import { type Moto, startMoto } from './moto.js'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const PUBLISHERS = 10
const ROUNDS = 5

describe('concurrent publishes of one version (moto)', () => {
  let s3: Moto
  beforeAll(async () => {
    s3 = await startMoto()
  }, 30_000)
  afterAll(() => s3?.stop())

  it(`${PUBLISHERS} publishers with different bytes, ${ROUNDS} rounds: one wins, the manifest matches its bytes`, async () => {
    const tally = { won: 0, refused: 0, late: 0, mismatched: 0, other: [] as string[] }
    const rounds: { round: number; winners: number[]; manifestOf: number; integrity: string; ok: boolean }[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const version = `2.0.${round}`
      // A store per publisher: separate runs, each with its own client, as two CI jobs would be.
      const stores: S3ArtifactStore[] = []
      const builds = await Promise.all(
        Array.from({ length: PUBLISHERS }, async (_, i) => {
          const bytes = new Uint8Array(randomBytes(20_000 + i))
          stores.push(s3Artifacts({ bucket: s3.bucket, prefix: 'race/', clientConfig: s3.clientConfig }))
          return { bytes, file: await s3.tempFile(bytes, 'web.tar.gz') }
        }),
      )
      const outcomes = await Promise.allSettled(builds.map((build, i) => stores[i]!.publish('web', build.file, { version })))
      for (const store of stores) store.destroy()

      const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [{ i, artifact: outcome.value }] : []))
      tally.won += winners.length
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') continue
        const message = (outcome.reason as Error).message
        if (message.includes(`version ${version} of web was published concurrently by another run; not overwritten`)) tally.refused++
        // A publisher that starts after the winner committed sees its manifest before uploading anything.
        else if (message.includes(`build ${version} of web already exists in s3://builds/race/ with different content`)) tally.late++
        else tally.other.push(message)
      }

      // Whatever happened, the stored manifest must describe the bytes behind it.
      const reader = s3Artifacts({ bucket: s3.bucket, prefix: 'race/', client: s3.client })
      const stored = await reader.resolve('web', version, contractContext())
      let integrity = 'ok'
      try {
        await reader.verify(stored, contractContext())
      } catch (error) {
        integrity = (error as Error).message
        tally.mismatched++
      }
      const location = await reader.locate(stored, { id: 'web-1', address: '127.0.0.2' }, contractContext())
      if (location.kind !== 'url') throw new Error('expected a url')
      const fetched = new Uint8Array(await (await fetch(location.url)).arrayBuffer())
      const owner = builds.findIndex((build) => sha256(build.bytes) === stored.sha256)
      const ok =
        integrity === 'ok' &&
        sha256(fetched) === stored.sha256 &&
        winners.length === 1 &&
        winners[0]?.i === owner &&
        winners[0]?.artifact.sha256 === stored.sha256
      rounds.push({ round, winners: winners.map((w) => w.i), manifestOf: owner, integrity, ok })
    }
    console.log(
      rounds
        .map((r) => `round ${r.round}: winners [${r.winners}], manifest of publisher ${r.manifestOf}, verify ${r.integrity === 'ok' ? 'ok' : 'FAILED'}`)
        .join('\n'),
    )
    console.log(
      `totals over ${ROUNDS} rounds of ${PUBLISHERS}: won ${tally.won}, refused concurrently ${tally.refused}, refused before upload ${tally.late}, manifest/bytes mismatch ${tally.mismatched}, other ${tally.other.length}`,
    )
    expect(rounds.filter((r) => !r.ok)).toEqual([])
    expect(tally.other).toEqual([])
    expect(tally.won).toBe(ROUNDS)
    expect(tally.refused + tally.late).toBe(ROUNDS * (PUBLISHERS - 1))
    // The race is real: most losers got past the first check and lost at the manifest's commit.
    expect(tally.refused).toBeGreaterThan(0)
    expect(tally.mismatched).toBe(0)
  }, 120_000)
})
