// A Markdown summary that cannot be written never ends the rollout: through the real bin in a
// child process, `--summary /dev/full` (every write fails with ENOSPC, as on a full disk) and
// a $GITHUB_STEP_SUMMARY under a file (its folder cannot be made) leave the rollout to finish;
// the exit code is the rollout's own, and stderr names the file that was not written.
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { type Project, exitWithin, makeProject, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const hosts = (p: Project) => p.fleet().hosts.map((h) => [h.id, h.version, h.inService])

describe('rolling deploy whose summary cannot be written', () => {
  it('--summary /dev/full (ENOSPC): the rollout finishes, exit 0, stderr says the summary was lost', async () => {
    project = makeProject({ size: 2 })
    const run = runBin(['deploy', '--plain', '--summary', '/dev/full'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000), run.stderr).toBe(0)
    expect(run.stdout).toMatch(/exit 0 \(succeeded\)\n$/)
    expect(run.stderr).toBe(
      'rolling: a reporter failed: the Markdown summary was not written to /dev/full (ENOSPC: no space left on device, write); the rollout is not affected: the exit code says how it ended\n',
    )
    expect(hosts(project)).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
    ])
  })

  it('$GITHUB_STEP_SUMMARY in a folder that cannot be made, on a halted rollout: exit 2 (halted), not a crash', async () => {
    project = makeProject({ size: 2, breakOnDeploy: ['host-2'] })
    const step = join(project.fleetFile, 'step-summary.md')
    const run = runBin(['deploy', '--json', '--batch', '1'], { cwd: project.dir, env: { GITHUB_STEP_SUMMARY: step } })
    expect(await exitWithin(run, 30_000), run.stderr).toBe(2)
    expect(run.stderr).toMatch(new RegExp(`^rolling: a reporter failed: the Markdown summary was not written to ${step} \\((EEXIST|ENOTDIR)[^)]*\\); `))
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^\{"type":"rollout:end".*"status":"halted"/)
    expect(hosts(project)).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', false],
    ])
  })
})
