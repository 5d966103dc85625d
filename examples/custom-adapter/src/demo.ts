// The runnable example: three apps on v1 behind tinylb, steady traffic through it, and a
// rollout to v2 through the custom adapter, one host at a time. Prints each step and exits 0
// only if the rollout succeeded and no request failed. Run: `npx -y pnpm@12.4.2 --filter @org/example-custom-adapter start`.
import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'
import { tinyLbLoadBalancer } from './adapter.js'
import { startExampleFleet } from './fleet.js'

const fleet = await startExampleFleet({ size: 3 })
const say = (line: string) => console.log(line)
let exitCode = 1
try {
  say(`tinylb proxies ${fleet.tinylb.url} to ${fleet.apps.map((a) => `${a.id} (${a.address}:${a.port})`).join(', ')}; admin API on ${fleet.tinylb.adminUrl}`)
  fleet.artifacts.publish(fleet.service, 'v2', `${fleet.service} v2\n`)
  const traffic = fleet.traffic()

  const run = rollout({
    service: fleet.service,
    loadBalancer: tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, drainTimeoutMs: 10_000, attachTimeoutMs: 10_000 }),
    artifacts: fleet.artifacts,
    executor: fleet.executor,
    deploy: fleet.deploy,
    batch: 1,
    settle: { interval: 100, successes: 2 }, // poll _status instead of the default 60 s wait
    journal: memoryJournal(), // the example keeps no state on disk
    lock: memoryLock(),
  })
  run.on('batch:start', ({ index, total, targets }) => say(`batch ${index + 1}/${total}: ${targets.map((t) => t.id).join(', ')}`))
  run.on('target:detached', ({ target }) => say(`  ${target.id} drained and out of tinylb`))
  run.on('target:deployed', ({ target, durationMs }) => say(`  ${target.id} restarted on the new build in ${durationMs} ms`))
  run.on('target:attached', ({ target }) => say(`  ${target.id} passed tinylb's health check and is back in service`))
  run.on('target:failed', ({ target, reason }) => say(`  ${target.id} FAILED: ${reason}`))
  const result = await run
  const counts = await traffic.stop()

  say(`rollout ${result.status} in ${result.durationMs} ms; hosts now run ${fleet.apps.map((a) => `${a.id}=${a.version}`).join(', ')}`)
  say(
    `requests through tinylb during the rollout: ${counts.ok} served, ${counts.failed} failed${counts.failed ? ` (${counts.errors.slice(0, 3).join('; ')})` : ''}`,
  )
  if (result.status !== 'succeeded') say(`reason: ${result.reason}`)
  exitCode = result.status === 'succeeded' && counts.failed === 0 ? 0 : 1
} finally {
  await fleet.close()
}
process.exitCode = exitCode
