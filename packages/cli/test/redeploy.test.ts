// Re-running a deploy is safe: through the real bin, `plan` names the targets already on the
// build, `deploy` skips them without detaching them, and `--redeploy` (config `redeploy: true`)
// deploys them again. `--force`, unlock's flag, is refused on deploy with a pointer to it.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import type { FleetState } from './fixtures/file-fleet.js'
import { type Project, exitWithin, makeProject, normalise, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

/** host-1 and host-3 already run v2 (a deploy that halted after them, say). */
function halfDone(p: Project): void {
  const state = JSON.parse(readFileSync(p.fleetFile, 'utf8')) as FleetState
  for (const host of state.hosts) if (host.id !== 'host-2') host.version = 'v2'
  writeFileSync(p.fleetFile, JSON.stringify(state))
}

const detached = (p: Project) =>
  p
    .fleet()
    .calls.filter((c) => c.op === 'detach')
    .flatMap((c) => c.ids)

describe('rolling deploy onto targets already on the build', () => {
  it('plan names them, deploy skips them, --redeploy deploys them again', async () => {
    project = makeProject({ size: 3 })
    halfDone(project)

    const plan = runBin(['plan', '--batch', '1'], { cwd: project.dir })
    expect(await exitWithin(plan, 30_000), plan.stderr).toBe(0)
    expect(plan.stdout).toContain('\nalready on v2 (a deploy skips them; --redeploy deploys them too): host-1 (127.0.10.1:8080), host-3 (127.0.10.3:8080)\n')
    const forced = runBin(['plan', '--batch', '1', '--redeploy'], { cwd: project.dir })
    expect(await exitWithin(forced, 30_000), forced.stderr).toBe(0)
    expect(forced.stdout).not.toContain('a deploy skips them')
    expect(forced.stdout).toContain('\nredeploy: on (targets already on v2 are deployed again, not skipped)\n')

    const deploy = runBin(['deploy', '--batch', '1', '--plain'], { cwd: project.dir })
    expect(await exitWithin(deploy, 30_000), deploy.stderr).toBe(0)
    expect(normalise(deploy.stdout.trim().split('\n'))).toContain('skipped: host-1 (127.0.10.1:8080): already on v2')
    expect(detached(project)).toEqual(['host-2'])

    project.write('fleet.json', JSON.stringify({ ...project.fleet(), calls: [] }))
    const again = runBin(['deploy', '--batch', '1', '--plain', '--redeploy'], { cwd: project.dir })
    expect(await exitWithin(again, 30_000), again.stderr).toBe(0)
    expect(detached(project)).toEqual(['host-1', 'host-2', 'host-3'])
    expect(project.fleet().hosts.every((h) => h.version === 'v2' && h.inService)).toBe(true)
  })

  it('refuses --force on deploy and points to --redeploy', async () => {
    project = makeProject({ size: 1 })
    const run = runBin(['deploy', '--force'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000)).toBe(4)
    expect(run.stderr).toBe(
      'rolling deploy: unknown flag --force; to deploy to targets already on the build too, pass --redeploy; see `rolling deploy --help`\n',
    )
    expect(project.fleet().calls).toEqual([])
  })
})
