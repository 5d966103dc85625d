// The shared Executor contract suite, run through the real SSM client against the fake
// SSM endpoint, which runs each command as a real shell process in the host's folder.
import { testExecutor } from '@org/rolling-core/testing/contracts'
import { ssmExecutor } from '../src/index.js'
import { startFleet } from './support.js'
import { ssmFaults } from './faulty-endpoints.js'

testExecutor({
  name: 'ssm',
  timeout: 20_000,
  // SSM Run Command has no live output: GetCommandInvocation returns it when the command ends,
  // so the executor replays it through ctx.output at the end (a documented limitation).
  skip: ['streams output while the command runs'],
  setup: async () => {
    const fleet = await startFleet(1)
    const client = fleet.fake.client({ maxAttempts: 1 })
    const executor = ssmExecutor({ client, pollMs: 20, maxPollMs: 100 })
    return {
      executor,
      target: fleet.targets[0]!,
      faults: ssmFaults(fleet.fake),
      teardown: async () => {
        await executor.close?.()
        client.destroy()
        await fleet.stop()
      },
    }
  },
})
