// The load generator in a process of its own, as users are: the rollout controller (the
// test process: engine, shell spawns, HAProxy polling) must not stall the clients and
// show its own event-loop lag as request latency. Runs startLoad and streams its samples
// to the parent over IPC; `flush` answers once every sample recorded so far was sent.
// An optional second, smaller load goes straight to a reference server that no rollout
// touches: its latency is the machine's own scheduler noise over the same seconds.
import { startLoad, type Load, type LoadSample } from './load.js'

const [url, rate, referenceUrl, referenceRate] = process.argv.slice(2)
if (!url || !rate || !process.send) throw new Error('usage (as a forked child): load-child.ts <url> <rate> [<reference url> <rate>]')
const send = (message: unknown) => process.send?.(message)
const loads: Record<string, Load> = { main: startLoad({ url, rate: Number(rate) }) }
if (referenceUrl && referenceRate)
  loads.reference = startLoad({ url: referenceUrl, rate: Number(referenceRate), connections: Math.min(Number(referenceRate), 10) })
const sent: Record<string, number> = {}
const flush = () => {
  for (const [name, load] of Object.entries(loads)) {
    const samples: LoadSample[] = load.samples.slice(sent[name] ?? 0)
    sent[name] = (sent[name] ?? 0) + samples.length
    if (samples.length > 0) send({ type: 'samples', name, samples })
  }
}
const timer = setInterval(flush, 100)
process.on('message', (message: { type: string; id?: number }) => {
  if (message.type === 'flush') {
    flush()
    send({ type: 'flushed', id: message.id })
  } else if (message.type === 'stop') {
    clearInterval(timer)
    void Promise.all(Object.values(loads).map((load) => load.stop())).then(() => {
      flush()
      process.send?.({ type: 'stopped' }, undefined, {}, () => process.disconnect())
    })
  }
})
// Gone parent (a crashed test run): stop, so no load generator outlives it.
process.on('disconnect', () => process.exit(0))
send({ type: 'ready', startedAt: loads.main?.startedAt })
