// The `rolling` CLI's config for a local fleet that is already running (startFleet() with
// HAProxy, in another process): the adapters are rebuilt from the fleet's folder, the same
// parts demo.ts uses in-process. Run from the repository root:
//
//   ROLLING_FLEET_DIR=/tmp/rolling-fleet-XXXX npx rolling deploy --config examples/local-fleet/rollout.config.ts
//
// ROLLING_FLEET_DIR   the fleet's folder (`fleet.dir`): hosts/, artifacts/, haproxy/admin.sock
// ROLLING_BATCH       hosts per batch (default 2)
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { defineConfig } from '@org/rolling-cli'
import { type DeployRecipe, fileArtifacts, localExecutor, sh } from '@org/rolling-core'
import { haproxyLoadBalancer } from '@org/rolling-haproxy'
import { fleetRecipe } from '@org/rolling-local-fleet'

export default defineConfig(({ env }) => {
  const dir = env.ROLLING_FLEET_DIR
  if (!dir) throw new Error('ROLLING_FLEET_DIR is not set: give it the folder of a running local fleet (`fleet.dir` of startFleet())')
  if (!existsSync(join(dir, 'hosts'))) throw new Error(`ROLLING_FLEET_DIR=${dir} holds no hosts/ folder: is the fleet running?`)
  // The embedded Node load balancer lives inside the process that started the fleet; only
  // HAProxy has a runtime API another process (this CLI) can drive.
  const socket = join(dir, 'haproxy', 'admin.sock')
  if (!existsSync(socket)) {
    throw new Error(`no HAProxy runtime API at ${socket}: start the fleet with HAProxy (startFleet({ lb: 'haproxy' })) to drive it from the CLI`)
  }
  const batch = Number(env.ROLLING_BATCH ?? 2)
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`ROLLING_BATCH must be an integer >= 1, got ${JSON.stringify(env.ROLLING_BATCH)}`)

  const recipe = fleetRecipe()
  // The fleet's recipe says nothing when all goes well; this one tells the operator what
  // each host is doing, which the terminal view shows per host (press `o`).
  const deploy: DeployRecipe = {
    ...recipe,
    async deploy(args) {
      const { artifact, exec } = args
      await exec(`${sh`echo ${`installing ${artifact.version} (sha256 ${artifact.sha256.slice(0, 12)})`}`} && echo "was: $(readlink current)"`)
      await recipe.deploy(args)
      await exec('echo "now: $(readlink current), app restarted"')
    },
  }

  return {
    service: 'app',
    // HAProxy names its servers `<backend>/<server>`: `app/host-1` lives in hosts/host-1.
    loadBalancer: haproxyLoadBalancer({ socket, backends: ['app'] }),
    artifacts: fileArtifacts({ root: join(dir, 'artifacts') }),
    executor: localExecutor({ cwd: (target) => join(dir, 'hosts', basename(target.id)) }),
    deploy,
    batch,
    // Poll _status instead of the library's 60 s default wait: these apps boot in 0.3 s.
    settle: { interval: 200, successes: 2, deadline: 5_000 },
    stateDir: join(dir, 'state'),
  }
})
