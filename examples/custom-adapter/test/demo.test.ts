// The example is runnable: `pnpm start` in this folder rolls three apps behind tinylb to v2
// and exits 0 only if the rollout succeeded and no request failed.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('the demo rolls the fleet to v2 and exits 0', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--conditions', '@org/source', '--import', 'tsx', 'src/demo.ts'], { cwd, timeout: 30_000 }, (error, out, err) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out, stderr: err }),
    )
    child.stdin?.end()
  })
  expect(code, `${stdout}\n${stderr}`).toBe(0)
  expect(stdout).toMatch(/rollout succeeded in \d+ ms; hosts now run web-1=v2, web-2=v2, web-3=v2/)
  expect(stdout).toMatch(/requests through tinylb during the rollout: [1-9]\d* served, 0 failed/)
}, 40_000)
