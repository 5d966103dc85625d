// A rollout in a process of its own, as a user's script or a CLI runs it, with Ctrl-C
// (SIGINT) wired to a graceful abort. Prints one JSON line per event the test waits for,
// then the result. Usage: ctrl-c-rollout.ts <fleet dir> <haproxy runtime API socket>
import { basename, join } from 'node:path'
import { fileArtifacts, localExecutor, rollout } from '@org/rolling-core'
import { haproxyLoadBalancer } from '@org/rolling-haproxy'
import { fleetRecipe } from '../../src/index.js'

const [dir, socket] = process.argv.slice(2)
if (!dir || !socket) throw new Error('usage: ctrl-c-rollout.ts <fleet dir> <haproxy socket>')
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`)

const controller = new AbortController()
process.once('SIGINT', () => {
  print({ event: 'sigint' })
  controller.abort()
})
const run = rollout({
  service: 'app',
  loadBalancer: haproxyLoadBalancer({ socket, backends: ['app'] }),
  artifacts: fileArtifacts({ root: join(dir, 'artifacts') }),
  executor: localExecutor({ cwd: (target) => join(dir, 'hosts', basename(target.id)) }),
  deploy: fleetRecipe(),
  batch: 2,
  settle: { interval: 150, successes: 2, deadline: 15_000 },
  stateDir: join(dir, 'state'),
  signal: controller.signal,
})
run.on('target:deployed', ({ target, batch }) => print({ event: 'target:deployed', target: target.id, batch }))
const result = await run
print({
  event: 'result',
  status: result.status,
  reason: result.reason,
  needsAttention: result.needsAttention.map((t) => t.id),
  outcomes: Object.fromEntries(result.targets.map((t) => [t.target.id, t.outcome])),
})
process.exitCode = result.status === 'succeeded' ? 0 : 1
