// The runnable example: a rollout over an in-memory fleet of 6 hosts (one of them unhealthy
// before it starts, so it is skipped) reported to a chat webhook. With WEBHOOK_URL set it
// posts there; otherwise it starts a receiver on loopback that prints each message.
// Exits 0 once every message is delivered. Run: `npx -y pnpm@12.4.2 --filter @org/example-custom-reporter start`.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'
import { webhookReporter } from './reporter.js'

let receiver: http.Server | undefined
let url = process.env.WEBHOOK_URL
if (!url) {
  // Stands in for Slack & co.: prints what a chat channel would show.
  receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk
    })
    req.on('end', () => {
      const { text } = JSON.parse(body) as { text: string }
      console.log(`[chat] ${text.replaceAll('\n', '\n       ')}`)
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/demo`
}

const fleet = memoryFleet({ size: 6, service: 'checkout', deployMs: 150 })
fleet.publish('v2')
fleet.unhealthyBefore('host-4') // a box that is already down: the pre-check skips it

const reporter = webhookReporter({ url, timeoutMs: 3000, retries: 2 })
const run = rollout({
  ...fleet.adapters,
  batch: [1, '50%'], // a canary, then halves
  settle: { delay: 0 },
  journal: memoryJournal(),
  lock: memoryLock(),
})
reporter.watch(run)
const result = await run
// Posts go out in the background; wait for them (bounded) before the process ends.
const stats = await reporter.flush({ timeoutMs: 15_000 })
console.log(`rollout ${result.status}; webhook: ${stats.delivered} delivered, ${stats.failed} failed, ${stats.dropped} dropped`)
receiver?.close()
// An explicit exit, as CLIs do, ends the process at once: anything not flushed would be lost.
process.exit(result.status === 'succeeded' && stats.failed === 0 && stats.dropped === 0 ? 0 : 1)
