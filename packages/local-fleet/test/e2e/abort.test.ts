// Abort (Ctrl-C) in the middle of a batch, end to end, behind a real HAProxy (retries 0)
// under steady load: the rollout starts nothing new, lets the batch in flight finish,
// puts every healthy host back in, and names any host it leaves out.
import { spawn } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Fleet } from '../../src/index.js'
import { status } from '../support.js'
import {
  RATE,
  SIZE,
  describeServers,
  figures,
  hostId,
  ids,
  inService,
  loadWithBaseline,
  outcomes,
  rollTwoByTwo,
  runtimeApiOf,
  servers,
  skip,
  skipNote,
  fleetPerTest,
  type ServerView,
} from './support.js'

const CHILD = fileURLToPath(new URL('./ctrl-c-rollout.ts', import.meta.url))

interface End {
  status: string
  reason?: string
  needsAttention: string[]
  outcomes: Record<string, string>
}

/** What a user relies on after an abort: nobody out of HAProxy unnamed, healthy ones back in, later batches untouched. */
async function checkAfterAbort(fleet: Fleet, end: End, pids: Map<string, number | undefined>, views: Map<string, ServerView>) {
  expect(end.status, end.reason).toBe('aborted')
  expect(end.outcomes['host-1']).toBe('done')
  expect(end.outcomes['host-2']).toBe('done')
  // The batch in flight (host-3, host-4) finished its deploy and was put back, or named.
  for (const id of ['host-3', 'host-4']) expect(['done', 'restored', 'failed']).toContain(end.outcomes[id])
  for (const h of fleet.hosts.slice(4)) expect(end.outcomes[h.id], h.id).toBe('pending')
  const attention = new Set(end.needsAttention.map(hostId))
  for (const h of fleet.hosts) {
    const view = views.get(h.id)
    // No host out of HAProxy without being named in needsAttention ...
    if (!inService(view)) expect(attention.has(h.id), `${h.id} is out of HAProxy (${view?.status}) but not in needsAttention`).toBe(true)
    // ... and every host that answers 200 is back in.
    const answer = await status(h.target).catch(() => undefined)
    if (answer?.code === 200) expect(inService(view), `${h.id} is healthy but ${view?.status}: ${describeServers(views)}`).toBe(true)
  }
  // Nothing new started: the batches after the abort are untouched.
  for (const h of fleet.hosts.slice(4)) {
    expect(readlinkSync(join(h.dir, 'current'))).toBe('releases/v1')
    expect(h.pid).toBe(pids.get(h.id))
  }
}

describe.skipIf(skip)(`e2e: abort in the middle of a batch behind HAProxy (retries 0), ${SIZE} hosts, ${RATE} req/s${skipNote}`, () => {
  const { start, track } = fleetPerTest()

  it('abort (AbortSignal) on the first deploy of batch 2: status aborted, healthy hosts back in, none out of HAProxy unnamed, no failed request', async () => {
    const fleet = await start()
    const pids = new Map(fleet.hosts.map((h) => [h.id, h.pid]))
    const baseline = await loadWithBaseline(fleet, { ms: 2000 })
    const load = track(baseline.load)
    const controller = new AbortController()
    const run = rollTwoByTwo(fleet, { signal: controller.signal })
    let abortedOn: string | undefined
    run.on('target:deployed', ({ target, batch }) => {
      if (batch === 1 && !controller.signal.aborted) {
        abortedOn = hostId(target)
        controller.abort()
      }
    })
    const result = await run
    const during = await load.mark()
    const views = await servers(fleet)
    const whole = await load.stop()
    figures('abort mid-batch', { before: baseline.before, during, whole })
    console.info(
      `[e2e] abort mid-batch: aborted after ${abortedOn} deployed; ${result.status}; outcomes ${JSON.stringify(outcomes(result))}; ` +
        `needsAttention [${ids(result.needsAttention).join(', ')}]; HAProxy: ${describeServers(views)}`,
    )
    expect(abortedOn).toBeDefined()
    await checkAfterAbort(
      fleet,
      {
        status: result.status,
        ...(result.reason ? { reason: result.reason } : {}),
        needsAttention: result.needsAttention.map((t) => t.id),
        outcomes: outcomes(result),
      },
      pids,
      views,
    )
    expect(whole.errors).toBe(0)
    expect(whole.non2xx, JSON.stringify(whole.statusCodes)).toBe(0)
  })

  it('Ctrl-C: SIGINT to a process running the rollout, mid-batch 2: the same guarantees', async () => {
    const fleet = await start()
    const pids = new Map(fleet.hosts.map((h) => [h.id, h.pid]))
    const baseline = await loadWithBaseline(fleet, { ms: 2000 })
    const load = track(baseline.load)
    const { NODE_OPTIONS: _, ...env } = process.env
    const child = spawn(process.execPath, ['--conditions=@org/source', '--import', 'tsx', CHILD, fleet.dir, runtimeApiOf(fleet).address], {
      cwd: dirname(CHILD),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    let end: End | undefined
    let interrupted: string | undefined
    let buffered = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const message = JSON.parse(line) as { event: string; target?: string; batch?: number } & End
        if (message.event === 'target:deployed' && message.batch === 1 && !interrupted) {
          interrupted = message.target
          child.kill('SIGINT')
        }
        if (message.event === 'result') end = message
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    clearTimeout(timer)
    const during = await load.mark()
    const views = await servers(fleet)
    const whole = await load.stop()
    figures('Ctrl-C mid-batch', { before: baseline.before, during, whole })
    console.info(
      `[e2e] Ctrl-C mid-batch: SIGINT after ${interrupted} deployed; exit ${code}; ${end?.status}; outcomes ${JSON.stringify(end?.outcomes)}; ` +
        `needsAttention [${end?.needsAttention.join(', ')}]; HAProxy: ${describeServers(views)}`,
    )
    if (!end) throw new Error(`the rollout process printed no result (exit ${code}): ${stderr.slice(-2000)}`)
    expect(interrupted).toBeDefined()
    const byHost = { ...end, outcomes: Object.fromEntries(Object.entries(end.outcomes).map(([id, o]) => [hostId(id), o])) }
    await checkAfterAbort(fleet, byHost, pids, views)
    expect(whole.errors).toBe(0)
    expect(whole.non2xx, JSON.stringify(whole.statusCodes)).toBe(0)
  })
})
