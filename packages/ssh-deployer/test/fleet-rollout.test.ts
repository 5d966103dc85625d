// The full rollout over SSH: the local fleet's hosts (127.0.0.2, .3, ...) each reached over
// SSH at its own address (one sshd listening on all of them), HAProxy in front, steady load
// through it, the release recipe uploading over SFTP and restarting each app. No request
// may fail, and each host is served by one SSH connection for the whole rollout.
import { readlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { rollout, sh } from '@org/rolling-core'
import { STOPPED_FILE, endAppCommand, haproxyAvailable, restartCommand, startFleet, startLoad, type Fleet } from '@org/rolling-local-fleet'
import { releaseRecipe, sshExecutor } from '../src/index.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const skipSshd = skipWithoutSshd()
const haproxy = await haproxyAvailable()
const haproxyMissing = 'error' in haproxy ? haproxy.error : undefined
if (haproxyMissing && process.env.CI === 'true') throw new Error(`CI=true but HAProxy cannot run: ${haproxyMissing}`)
const RATE = 100

// The fleet's own restart: SIGTERM the app and wait until it is gone; the fleet's
// supervisor then starts `current` again, now the new release.
const restart = restartCommand()
const stop = `${sh`touch ${STOPPED_FILE}`}; ${endAppCommand()}`

describe.skipIf(skipSshd || haproxyMissing !== undefined)(`rollout over SSH behind HAProxy${haproxyMissing ? ` (skipped: ${haproxyMissing})` : ''}`, () => {
  let fleet: Fleet | undefined
  let sshd: Sshd | undefined
  afterAll(async () => {
    await fleet?.stop()
    await sshd?.stop()
  })

  it('rolls v1 to v2 over SSH under load with no failed request and one connection per host', async () => {
    sshd = await startSshd()
    fleet = await startFleet({ size: 3, lb: 'haproxy', startupDelayMs: 300, retries: 0 })
    const hostsDir = join(fleet.dir, 'hosts')
    await fleet.publish('v2')
    const executor = sshExecutor({
      username: 'root',
      port: sshd.port,
      privateKey: sshd.clientKey,
      hostKeys: { knownHostsText: sshd.knownHosts(fleet.targets.map((t) => t.address)) },
    })
    const recipe = releaseRecipe({
      // HAProxy names targets `<backend>/<server>`; the server name is the host folder.
      root: (target) => join(hostsDir, basename(target.id)),
      transfer: 'sftp',
      executor,
      restart,
      stop,
      keep: 3,
    })
    const events: string[] = []
    const load = startLoad({ url: fleet.url, rate: RATE })
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500))
      load.mark()
      const run = rollout({
        service: fleet.service,
        loadBalancer: fleet.lb,
        artifacts: fleet.artifacts,
        executor,
        deploy: recipe,
        batch: 1,
        settle: { interval: 200, successes: 2, deadline: 15_000 },
        stateDir: join(fleet.dir, 'state'),
      })
      run.subscribe((event) => void events.push(event.type))
      const result = await run
      const during = load.mark()
      console.info(
        `[rolling:ssh] rollout over SSH: ${result.status} in ${Math.round(result.durationMs ?? 0)} ms; load ${during.requests} requests, ` +
          `${during.errors} errors, ${during.non2xx} non-2xx, p99 ${during.latency.p99} ms`,
      )
      for (const s of executor.stats()) {
        console.info(
          `[rolling:ssh]   ${s.target}: ${s.connections} connection(s), connect ${s.connectMs.toFixed(1)} ms, upload ${s.uploadMs.toFixed(1)} ms, ` +
            `${s.commands} commands ${s.commandMs.toFixed(1)} ms, overhead ${s.overheadMs.toFixed(1)} ms`,
        )
      }
      expect(result.status, result.reason).toBe('succeeded')
      expect(during.errors).toBe(0)
      expect(during.non2xx).toBe(0)
      expect(during.rps).toBeGreaterThan(RATE * 0.9)
    } finally {
      await load.stop()
    }
    for (const host of fleet.hosts) {
      expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v2')
      const response = await fetch(`http://${host.target.address}:${host.target.port}/_status`)
      expect(((await response.json()) as { version?: string }).version).toBe('v2')
      // Counted by sshd: one TCP connection to this host's address for the whole rollout.
      expect(sshd.connectionsTo(host.target.address)).toBe(1)
    }
    expect(events).not.toContain('warning')
    const stats = executor.stats()
    expect(stats).toHaveLength(3)
    for (const s of stats) expect(s).toMatchObject({ connections: 1, uploads: 1 })
  })
})
