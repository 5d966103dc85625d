// The local fleet demo, the project's main job: 6 app processes on 127.0.0.2-7 on v1,
// behind HAProxy when it is installed (the embedded Node load balancer otherwise),
// steady traffic through the load balancer, and a rollout to v2 in batches of 2.
// Exits 0 only if the rollout succeeded and no request failed.
import { rollout } from '@org/rolling-core'
import { startFleet, startLoadProcess, type LoadReport } from '@org/rolling-local-fleet'

const HOSTS = 6
const RATE = 100 // requests per second through the load balancer
const started = performance.now()
const clock = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`
const say = (line: string) => console.log(`${clock()}  ${line}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

say(`starting ${HOSTS} hosts on v1 (127.0.0.2-${HOSTS + 1}), each its own app process and release folder`)
const fleet = await startFleet({ size: HOSTS, startupDelayMs: 300 })
say(
  fleet.lbKind === 'haproxy'
    ? `load balancer: HAProxy (a private instance, runtime API on ${fleet.dir}/haproxy)`
    : 'load balancer: the embedded Node load balancer (HAProxy is not installed; apt-get install haproxy to use it)',
)
say(`traffic: ${RATE} req/s to ${fleet.url}`)
// The clients run in a process of their own, as real users do: the rollout's own work in
// this process must not show up as request latency.
const load = await startLoadProcess(fleet.url, RATE)
let exitCode = 1
try {
  await sleep(1000)
  await load.mark() // warm-up, not counted
  await sleep(3000)
  const before = await load.mark()
  const v2 = await fleet.publish('v2')
  say(`built v2 once (sha256 ${v2.sha256.slice(0, 12)}), rolling it out in batches of 2`)

  const controller = new AbortController()
  process.once('SIGINT', () => {
    say('Ctrl-C: finishing in-flight steps and putting healthy hosts back (Ctrl-C again to quit at once)')
    controller.abort()
    process.once('SIGINT', () => process.exit(130))
  })
  const run = rollout({
    service: fleet.service,
    loadBalancer: fleet.lb,
    artifacts: fleet.artifacts,
    executor: fleet.executor,
    deploy: fleet.recipe,
    batch: 2,
    // Poll _status instead of the library's 60 s default wait: these apps boot in 0.3 s.
    settle: { interval: 200, successes: 2, deadline: 15_000 },
    stateDir: `${fleet.dir}/state`,
    signal: controller.signal,
  })
  // Samples stream in from the load process every 100 ms: a live count without a round trip.
  const traffic = () => {
    const ok = load.samples.filter((s) => s.status >= 200 && s.status < 300).length
    return `[traffic ${ok} ok, ${load.samples.length - ok} failed]`
  }
  run.on('batch:start', ({ index, total, targets }) => say(`batch ${index + 1}/${total}: ${targets.map((t) => t.id).join(', ')}`))
  run.on('target:skipped', ({ target, reason }) => say(`  ${target.id} skipped: ${reason}`))
  run.on('target:detached', ({ target }) => say(`  ${target.id} out of the load balancer, connections drained`))
  run.on('target:deployed', ({ target, durationMs }) => say(`  ${target.id} v2 installed and restarted (${durationMs} ms)`))
  run.on('target:healthy', ({ target, health }) => say(`  ${target.id} _status 200 on ${health.version ?? '?'}`))
  run.on('target:attached', ({ target }) => say(`  ${target.id} back in the load balancer  ${traffic()}`))
  run.on('target:failed', ({ target, reason }) => say(`  ${target.id} FAILED, left out for manual verification: ${reason}`))
  run.on('verify:start', ({ targets }) => say(`verify: checking the build of ${targets.length} hosts`))
  run.on('verify:mismatch', ({ target, actual }) => say(`  ${target.id} runs ${actual.version}: stopping it`))
  const result = await run
  const during = await load.mark()
  await load.stop()

  console.log('')
  say(`rollout ${result.status.toUpperCase()} in ${(result.durationMs / 1000).toFixed(1)} s${result.reason ? `: ${result.reason}` : ''}`)
  console.log('')
  console.log('  host         address     outcome  version')
  for (const r of result.targets) console.log(`  ${r.target.id.padEnd(12)} ${r.target.address.padEnd(11)} ${r.outcome.padEnd(8)} ${r.version ?? '-'}`)
  console.log('')
  const row = (name: string, r: LoadReport) =>
    `  ${name.padEnd(16)} ${String(r.requests).padStart(6)} ${r.rps.toFixed(0).padStart(6)} ${String(r.non2xx + r.errors).padStart(7)} ${r.latency.p50.toFixed(1).padStart(7)} ${r.latency.p99.toFixed(1).padStart(7)}`
  console.log('  traffic          served  req/s  failed  p50 ms  p99 ms')
  console.log(row('before rollout', before))
  console.log(row('during rollout', during))
  const failed = during.non2xx + during.errors + before.non2xx + before.errors
  const ok = result.status === 'succeeded' && failed === 0
  console.log('')
  say(ok ? 'zero failed requests: every host on v2 with no error seen by users' : `NOT OK: status ${result.status}, ${failed} failed request(s)`)
  exitCode = ok ? 0 : 1
} finally {
  await load.stop().catch(() => undefined)
  await fleet.stop()
}
process.exit(exitCode)
