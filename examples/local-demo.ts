// The local demo: a fleet of 6 hosts on 127.0.0.2-7, each a folder of releases
// with a `current` symlink and an HTTP `_status` server, rolled from v1 to v2 in
// batches of 2 through real shell commands (local executor), a build stored and
// checksummed once (file artifact store) and an in-process load balancer.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileArtifacts, httpHealthCheck, localExecutor, rollout, sh, type Target } from '@org/rolling-core'
import { memoryLoadBalancer } from '@org/rolling-core/testing'

const HOSTS = 6
const root = mkdtempSync(join(tmpdir(), 'rolling-demo-'))
const port = 18_000 + Math.floor(Math.random() * 1000)
const started = performance.now()
const say = (line: string) => console.log(`${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`)

// Build once: a tarball holding the release, published to the artifact store.
const artifacts = fileArtifacts({ root: join(root, 'artifacts') })
for (const version of ['v1', 'v2']) {
  const src = join(root, 'build', version)
  mkdirSync(src, { recursive: true })
  writeFileSync(join(src, 'VERSION'), version)
  execFileSync('tar', ['-czf', join(root, `app-${version}.tgz`), '-C', src, '.'])
  await artifacts.publish('app', join(root, `app-${version}.tgz`), { version })
}

// The hosts: each runs v1 from releases/v1 behind a `current` symlink.
const targets: Target[] = []
const servers: Server[] = []
for (let i = 0; i < HOSTS; i++) {
  const target = { id: `host-${i + 1}`, address: `127.0.0.${i + 2}`, port }
  const dir = join(root, 'hosts', target.id)
  mkdirSync(join(dir, 'releases', 'v1'), { recursive: true })
  execFileSync('tar', ['-xzf', join(root, 'app-v1.tgz'), '-C', join(dir, 'releases', 'v1')])
  execFileSync('ln', ['-sfn', 'releases/v1', join(dir, 'current')])
  const server = createServer((req, res) => {
    const file = join(dir, 'current', 'VERSION')
    if (req.url === '/_status' && existsSync(file)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: readFileSync(file, 'utf8') }))
    } else res.writeHead(503).end()
  })
  await new Promise<void>((resolve) => server.listen(port, target.address, resolve))
  servers.push(server)
  targets.push(target)
}

const run = rollout({
  service: 'app',
  loadBalancer: memoryLoadBalancer({ targets, drainMs: 300, attachMs: 100 }),
  artifacts,
  executor: localExecutor({ cwd: (t) => join(root, 'hosts', t.id) }),
  healthCheck: httpHealthCheck({ timeoutMs: 1000 }),
  // Unpack into releases/<version>, then switch `current` atomically (rename of a symlink).
  deploy: ({ artifact, location }) => [
    sh`mkdir -p releases/${artifact.version}`,
    sh`tar -xzf ${location.kind === 'path' ? location.path : ''} -C releases/${artifact.version}`,
    sh`ln -sfn releases/${artifact.version} current.new && mv -T current.new current`,
  ],
  batch: 2,
  settle: { interval: 200, successes: 2, deadline: 10_000 },
  stateDir: join(root, 'state'),
})
run.on('plan', ({ artifact, batches }) => say(`plan: ${artifact.service} ${artifact.version} (sha256 ${artifact.sha256.slice(0, 12)}) to ${targets.length} hosts in ${batches.length} batches`))
run.on('batch:start', ({ index, total, targets: t }) => say(`batch ${index + 1}/${total}: ${t.map((x) => x.id).join(', ')}`))
run.on('target:detached', ({ target }) => say(`  ${target.id} detached (drained)`))
run.on('target:deployed', ({ target, durationMs }) => say(`  ${target.id} deployed in ${durationMs} ms`))
run.on('target:healthy', ({ target, health }) => say(`  ${target.id} healthy on ${health.version}`))
run.on('target:attached', ({ target }) => say(`  ${target.id} back in service`))
run.on('target:failed', ({ target, reason }) => say(`  ${target.id} FAILED: ${reason}`))
run.on('verify:mismatch', ({ target, actual }) => say(`  ${target.id} runs ${actual.version}: stopping it`))
const result = await run

say(`rollout ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s`)
for (const r of result.targets) console.log(`  ${r.target.id.padEnd(8)} ${r.target.address.padEnd(10)} ${r.outcome.padEnd(8)} ${r.version ?? ''}`)
await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
rmSync(root, { recursive: true, force: true })
process.exit(result.status === 'succeeded' ? 0 : 1)
