// A rollout outlives its output: `rolling deploy --json | head` closes the pipe after the
// first lines (EPIPE on every later write). Through the real bin in a child process whose
// stdout the test closes at the first byte: the rollout finishes, every host on v2 and back
// in service, exit 0, and stderr says stdout went away.
import { afterEach, describe, expect, it } from 'vitest'
import { type Project, exitWithin, makeProject, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

describe('rolling deploy with its stdout closed mid-rollout', () => {
  it('goes on to the end: succeeded, every host on v2 in service, exit 0, a notice on stderr', async () => {
    project = makeProject({ size: 3, deployMs: 300 })
    const run = runBin(['deploy', '--batch', '1', '--json'], { cwd: project.dir })
    // As `| head -c1` does: read a little, then close the pipe.
    run.child.stdout?.once('data', () => run.child.stdout?.destroy())
    expect(await exitWithin(run, 30_000), run.stderr).toBe(0)
    expect(run.stderr).toMatch(/rolling: stdout is gone \(EPIPE\): the command goes on without printing there/)
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
      ['host-3', 'v2', true],
    ])
  })
})
