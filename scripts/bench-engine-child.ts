// One benchmark scenario, in its own process so that peak RSS is this scenario's alone.
// Bundled to plain JS by bench-engine.ts, then run as: node child.mjs <targets> <batch> [journal-dir]
//        node child.mjs --baseline   (peak RSS of node and the engine's modules alone)
// Prints one JSON line on stdout; exits non-zero when the rollout did not fully succeed
// (a benchmark of a broken run measures nothing). Run it directly to profile one case:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx scripts/bench-engine-child.ts 100000 1000
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileJournal, memoryLock, rollout, systemClock } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'

if (process.argv[2] === '--baseline') {
  // Node + the engine's modules, nothing run: the floor under peak_rss_mb.
  process.stdout.write(`${JSON.stringify({ baseline_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10 })}\n`)
  process.exit(0)
}

const targets = Number(process.argv[2])
const batch = Number(process.argv[3])
if (!Number.isInteger(targets) || targets < 1 || !Number.isInteger(batch) || batch < 1) {
  console.error('usage: bench-engine-child.ts <targets> <batch> [journal-dir]')
  process.exit(64)
}
const ownDir = process.argv[4] === undefined
const dir = process.argv[4] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-bench-'))

function fail(message: string): never {
  console.error(`[bench] ${targets} targets / batch ${batch}: ${message}`)
  process.exit(1)
}

async function main(): Promise<void> {
  // Clock: the system clock. With zero-latency adapters and `settle: { delay: 0 }` nothing
  // in the run ever sleeps, so wall time is pure engine + adapter work either way. What a
  // clock still does here is arm and clear a deadline timer for every adapter call
  // (deadlineSignal) — real libuv timers in production, so the system clock measures
  // that cost honestly. A FakeClock would add costs that production never pays (its
  // auto-advance idle checks via setImmediate + process.getActiveResourcesInfo(), and a
  // heap that keeps every cleared timer until time reaches it, which never happens when
  // no step sleeps), inflating both CPU and RSS.
  const clock = systemClock
  const fleet = memoryFleet({ size: targets, drainMs: 0, attachMs: 0, deployMs: 0, clock })
  const v2 = fleet.publish('v2')
  const file = path.join(dir, `${fleet.service}.journal.jsonl`)
  const journal = fileJournal(file)

  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const result = await rollout({
    ...fleet.adapters,
    batch,
    // Zero-latency settle: no delay, one `_status` check right after the deploy.
    settle: { delay: 0 },
    clock,
    journal,
    lock: memoryLock(),
  })
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  await journal.close()

  // The run must be a real, complete success.
  if (result.status !== 'succeeded') fail(`status ${result.status}: ${result.reason ?? ''}`)
  if (result.targets.length !== targets) fail(`result names ${result.targets.length} targets, expected ${targets}`)
  const notDone = result.targets.filter((r) => r.outcome !== 'done')
  if (notDone.length > 0) fail(`${notDone.length} target(s) not done, e.g. ${notDone[0]?.target.id}: ${notDone[0]?.outcome}`)
  const versions = fleet.versions()
  if (versions.get(v2.version) !== targets || versions.size !== 1) fail(`hosts per version: ${JSON.stringify([...versions])}`)
  if (fleet.lb.outOfService !== 0) fail(`${fleet.lb.outOfService} target(s) left out of the load balancer`)
  const expectedBatches = Math.ceil(targets / batch)
  if (result.batches !== expectedBatches) fail(`${result.batches} batches, expected ${expectedBatches}`)

  const journalBytes = fs.statSync(file).size
  if (journalBytes === 0) fail('the journal is empty')

  const line = {
    targets,
    batch,
    wall_ms: round(wall),
    cpu_ms: round((cpu.user + cpu.system) / 1000),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
    journal_bytes: journalBytes,
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
  if (ownDir) fs.rmSync(dir, { recursive: true, force: true })
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)))
