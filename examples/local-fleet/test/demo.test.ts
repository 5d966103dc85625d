// The README's first command, as a person runs it: the demo in a child process must roll all
// 6 hosts to v2 behind HAProxy with zero failed requests, say so, and exit 0. (The CLI config
// beside it is driven in a real terminal by packages/cli/test/tty.test.ts.)
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findHaproxy } from '@org/rolling-haproxy'
import { describe, expect, it } from 'vitest'

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const REPO = resolve(EXAMPLE, '../..')

describe('examples/local-fleet: the demo', () => {
  it('rolls 6 hosts to v2 behind HAProxy with zero failed requests and exits 0', async () => {
    const { NODE_OPTIONS: _, ...env } = process.env
    const child = spawn(process.execPath, ['--conditions=@org/source', '--import', 'tsx', join(EXAMPLE, 'demo.ts')], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c))
    child.stderr.on('data', (c: Buffer) => (out += c))
    const code = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 80_000)
      child.once('exit', (c) => {
        clearTimeout(timer)
        done(c)
      })
    })
    expect(code, out).toBe(0)
    // CI installs HAProxy; elsewhere the demo falls back to the Node load balancer and says so.
    if (process.env.CI === 'true' || findHaproxy() !== undefined) expect(out).toContain('load balancer: HAProxy')
    expect(out).toMatch(/rollout SUCCEEDED/)
    const rows = out.split('\n').filter((line) => /^\s+\S*host-\d+\s/.test(line))
    expect(rows).toHaveLength(6)
    for (const row of rows) expect(row).toMatch(/\sdone\s+v2\s*$/)
    const during = out.split('\n').find((line) => line.trim().startsWith('during rollout'))
    expect(during?.trim().split(/\s+/)[4], out).toBe('0') // the `failed` column
    expect(out).toContain('zero failed requests')
  })
})
