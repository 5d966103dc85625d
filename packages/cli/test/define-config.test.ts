// Config typos. The type side is test/fixtures/config-typos.ts, checked by the repository's
// typecheck (`tsc -p tsconfig.json`, part of `pnpm test`): each typo there (an unknown key
// `batchs` in an object or in a config function's return, `settle.dealy`, `batch: 'two'`) is
// marked @ts-expect-error on a line that differs from a compiling one only by the typo, so
// tsc fails the moment defineConfig accepts one. Here, the runtime side through the real bin.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FIXTURES, type Project, exitWithin, makeProject, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

describe('batch: two in a config', () => {
  it('is refused by the bin naming the option, the value and what it takes', async () => {
    project = makeProject(
      { size: 1 },
      `import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}\nexport default (env) => ({ ...base(env), batch: 'two' })\n`,
    )
    const run = runBin(['plan'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000)).toBe(4)
    expect(run.stderr).toBe("rollout.config.ts: `batch` expected a count (an integer >= 1) or a percentage like '25%', got 'two'\n")
  })
})
