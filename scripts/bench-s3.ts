// S3 requests of one rollout on the S3 state (`s3State`: the lock lease, its renewals, the journal),
// counted at the wire by a middleware on the real client-s3, against moto on loopback. The fleet is
// core's in-memory one (installs and settle of DEPLOY_MS each), so the rollout lasts long enough for
// the lease to be renewed; what is counted is what S3 would bill and rate-limit.
//
//   node --conditions @org/source --import tsx scripts/bench-s3.ts
//   ... scripts/bench-s3.ts --targets=100 --batch=10 --deploy-ms=100 --lease-ms=1500
//
// Needs moto for python3 (`python3 -m moto.server`), as the S3 tests do.
import { rollout } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'
import { s3State } from '@org/rolling-s3'
import { countWire, startMotoS3 } from '@org/rolling-s3/testing'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const flag = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback)
const targets = flag('targets', 100)
const batch = flag('batch', 10)
const deployMs = flag('deploy-ms', 100)
const leaseMs = flag('lease-ms', 1500)
const renewEveryMs = Math.floor(leaseMs / 3)

const moto = await startMotoS3({ bucket: 'state' })
try {
  const wire = countWire(moto.client)
  const state = s3State({ bucket: moto.bucket, prefix: 'bench/', client: moto.client, lock: { leaseMs, renewEveryMs } })
  const fleet = memoryFleet({ size: targets, service: 'bench', deployMs })
  fleet.publish('v2')
  const started = performance.now()
  const result = await rollout({ ...fleet.adapters, batch, settle: { delay: deployMs }, lock: state.lock, journal: state.journal('bench') })
  const ms = performance.now() - started
  if (result.status !== 'succeeded') throw new Error(`the rollout ended ${result.status}: ${result.reason}`)
  const lock = wire.requests.filter((r) => r.key === 'bench/bench/lock.json')
  const journal = wire.count((key) => key === 'bench/bench/journal.jsonl')
  const lockPuts = lock.filter((r) => r.kind === 'PUT').length
  const total = wire.requests.length
  const records = (await state.journal('bench').read()).length
  const line = (label: string, counts: Record<string, number>) =>
    `  ${label.padEnd(9)}${Object.entries(counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`
  console.log(`S3 requests of one rollout: ${targets} targets in batches of ${batch}, ${(ms / 1000).toFixed(1)} s (moto, counted at the wire)`)
  console.log(line('lock', { GET: lock.filter((r) => r.kind === 'GET').length, PUT: lockPuts }))
  console.log(`           = acquire 1 + renewals ${lockPuts - 2} (lease ${leaseMs} ms, renewed every ${renewEveryMs} ms) + release 1`)
  console.log(line('journal', journal))
  console.log(`           for ${records} records: appends are written behind, one PUT per burst, flushed before each detach and at the end`)
  console.log(`  other    ${total - lock.length - (journal.GET ?? 0) - (journal.PUT ?? 0)}`)
  console.log(`  total    ${total} requests (${(total / targets).toFixed(2)} per target)`)
  console.log(`  at the default lease (60 s, renewed every 20 s) renewals add 3 PUTs per minute of rollout`)
  state.destroy()
} finally {
  await moto.stop()
}
