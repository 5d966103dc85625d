// Runs a rollout over the file fleet in its own process, then dies by SIGKILL
// mid-batch (from inside a deploy command, or right after a deploy), as a
// crashed controller would. Argument: JSON { root, port, killAt, mode }.
import { fileArtifacts, httpHealthCheck, localExecutor, rollout } from '@org/rolling-core'
import { fileLoadBalancer, fileRecipe, hostDir, type FleetLayout } from './file-fleet.js'

const { layout, killAt, mode } = JSON.parse(process.argv[2] as string) as { layout: FleetLayout; killAt: string; mode: 'deploy' | 'settle' }
const recipe = {
  ...fileRecipe,
  async deploy(args: Parameters<typeof fileRecipe.deploy>[0]) {
    // Kills the controller (this process, the command's parent) in the middle of the deploy.
    if (mode === 'deploy' && args.target.id === killAt) await args.exec('kill -9 $PPID; sleep 5')
    return fileRecipe.deploy(args)
  },
}
const run = rollout({
  service: 'app',
  loadBalancer: fileLoadBalancer(layout),
  artifacts: fileArtifacts({ root: `${layout.root}/artifacts` }),
  executor: localExecutor({ cwd: (t) => hostDir(layout, t.id) }),
  healthCheck: httpHealthCheck({ timeoutMs: 2000 }),
  deploy: recipe,
  batch: 2,
  settle: { delay: 0 },
  stateDir: `${layout.root}/state`,
  hooks: {
    afterDeploy: ({ target }) => {
      if (mode === 'settle' && target.id === killAt) process.kill(process.pid, 'SIGKILL')
    },
  },
})
run.on('target:detached', ({ target }) => process.stdout.write(`detached ${target.id}\n`))
await run
process.stdout.write('finished without crashing\n')
