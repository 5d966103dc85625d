// The core Executor contract suite, run against a real OpenSSH server on loopback.
import { describe, expect, it } from 'vitest'
import { testExecutor } from '@org/rolling-core/testing/contracts'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd } from './sshd.js'
import { sshFaults } from './faulty-hosts.js'

const skip = skipWithoutSshd()

describe.skipIf(skip)('sshExecutor', () => {
  testExecutor({
    name: 'ssh (OpenSSH on loopback)',
    timeout: 30_000,
    async setup() {
      const sshd = await startSshd()
      const executor = executorFor(sshd)
      return {
        executor,
        target: { id: 'host-1', address: '127.0.0.2', port: 8080 },
        faults: sshFaults(sshd),
        async teardown() {
          await executor.close()
          await sshd.stop()
        },
      }
    },
    additionalTests(get) {
      it('reports the exit signal of a command killed by one', async () => {
        const { ctx } = recorder()
        const result = await get().executor.run(get().target, 'kill -KILL $$', ctx)
        expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL' })
      })
      it('runs in cwd and sees ROLLING_TARGET_* of the target', async () => {
        const { ctx } = recorder()
        const result = await get().executor.run(get().target, { command: 'pwd; echo "$ROLLING_TARGET_ID $ROLLING_TARGET_PORT"', cwd: '/tmp' }, ctx)
        expect(result.stdout).toBe('/tmp\nhost-1 8080\n')
      })
      it('fails a command whose cwd does not exist instead of running it elsewhere', async () => {
        const { ctx } = recorder()
        const result = await get().executor.run(get().target, { command: 'echo ran', cwd: '/nonexistent/dir' }, ctx)
        expect(result.exitCode).not.toBe(0)
        expect(result.stdout).toBe('')
      })
    },
  })
})
