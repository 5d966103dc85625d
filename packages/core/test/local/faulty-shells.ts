// Broken "hosts" for the local executor's fault tests: it has no connection, so its
// equivalents are a shell that cannot start, one that starts and never reads or answers,
// and one killed from outside under a running command.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutorFaults } from '../../src/testing/contracts/index.js'
import { localExecutor } from '../../src/local/executor.js'

async function script(body: string): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rolling-faulty-shell-'))
  const path = join(dir, 'shell')
  await writeFile(path, `#!/bin/sh\n${body}\n`)
  await chmod(path, 0o755)
  return { path, dir }
}

export function localFaults(): ExecutorFaults {
  const target = { id: 'faulty', address: '127.0.0.1' }
  return {
    async refused() {
      return { executor: localExecutor({ shell: '/nonexistent/rolling-shell' }), target }
    },
    async silent() {
      const { path, dir } = await script('exec sleep 60')
      return { executor: localExecutor({ shell: path, killGraceMs: 200 }), target, teardown: () => rm(dir, { recursive: true, force: true }) }
    },
    async dropping() {
      const { path, dir } = await script(`echo $$ > "$(dirname "$0")/pid"\nexec /bin/sh "$@"`)
      return {
        executor: localExecutor({ shell: path }),
        target,
        drop: async () => {
          process.kill(-Number((await readFile(join(dir, 'pid'), 'utf8')).trim()), 'SIGKILL')
        },
        teardown: () => rm(dir, { recursive: true, force: true }),
      }
    },
  }
}
