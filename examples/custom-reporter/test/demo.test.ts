// The example is runnable: `pnpm start` rolls an in-memory fleet and reports it to a
// webhook. The demo ends with process.exit(), so every message it posted must have been
// flushed before: a slow webhook here proves the flush really waits.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { startReceiver, type Receiver } from './receiver.js'

let receiver: Receiver | undefined
afterEach(async () => {
  await receiver?.close()
})

it('the demo posts every message to WEBHOOK_URL before it exits 0', async () => {
  receiver = await startReceiver({ kind: 'slow', ms: 100 })
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions', '@org/source', '--import', 'tsx', 'src/demo.ts'],
      { cwd, timeout: 30_000, env: { ...process.env, WEBHOOK_URL: receiver?.url } },
      (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out, stderr: err }),
    )
    child.stdin?.end()
  })
  expect(code, `${stdout}\n${stderr}`).toBe(0)
  expect(stdout).toContain('rollout succeeded; webhook: 7 delivered, 0 failed, 0 dropped')
  const texts = receiver.delivered.map((r) => r.text)
  expect(texts).toHaveLength(7)
  expect(texts[0]).toBe('checkout v2: batch 1/3 started: host-1')
  expect(texts[3]).toBe('checkout v2: batch 2/3 ended: 2 done, 1 skipped\n• host-4 skipped: pre-check failed: status 503 (unhealthy)')
  expect(texts[6]).toMatch(/^checkout v2 succeeded in [\d.]+ m?s: 5 done, 1 stopped\n/)
}, 40_000)
