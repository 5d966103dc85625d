import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLoad, summarize } from '../src/index.js'

describe('startLoad', () => {
  let server: Server
  let url: string
  let failNext = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (failNext > 0) {
        failNext--
        return res.writeHead(500).end()
      }
      res.writeHead(200).end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('holds a steady rate, spread evenly within each second', async () => {
    const load = startLoad({ url, rate: 200 })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    load.mark()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const window = load.mark()
    const report = await load.stop()
    expect(window.errors).toBe(0)
    expect(window.rps).toBeGreaterThan(180)
    expect(window.rps).toBeLessThan(220)
    expect(report.ok).toBe(report.requests)
    // 100 ms buckets over the steady part: about 20 each; a burst-per-second load would put
    // ~200 in one bucket and 0 in the nine others.
    const from = load.startedAt + 1000
    const buckets = new Array<number>(20).fill(0)
    for (const sample of load.samples) {
      const i = Math.floor((sample.at - from) / 100)
      if (i >= 0 && i < buckets.length) buckets[i] = (buckets[i] ?? 0) + 1
    }
    console.info(`[local-fleet] load spread, requests per 100 ms at 200 req/s: ${buckets.join(' ')}`)
    const sorted = [...buckets].sort((a, b) => a - b)
    expect(sorted[10]).toBeGreaterThanOrEqual(15)
    expect(sorted[10]).toBeLessThanOrEqual(25)
    expect(Math.max(...buckets)).toBeLessThanOrEqual(50)
  })

  it('counts non-2xx answers and connection errors, and stops by itself at its bound', async () => {
    // Requests written by the previous load just before it stopped may still be arriving.
    await new Promise((resolve) => setTimeout(resolve, 200))
    failNext = 5
    const load = startLoad({ url, rate: 20, maxDurationMs: 1000 })
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const samples = load.samples.length
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(load.samples.length).toBe(samples)
    const report = await load.stop()
    expect(report.non2xx).toBe(5)
    expect(report.requests).toBeGreaterThanOrEqual(15)
    expect(report.requests).toBeLessThanOrEqual(25)

    const refused = startLoad({ url: 'http://127.0.0.1:9/', rate: 5, connections: 1, maxDurationMs: 500 })
    const failed = await new Promise((resolve) => setTimeout(resolve, 300)).then(() => refused.stop())
    expect(failed.errors).toBeGreaterThan(0)
    expect(failed.ok).toBe(0)
  })

  it('summarize computes percentiles and a per-second timeline', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({ at: 1000 + i * 20, status: i === 99 ? 0 : 200, latencyMs: i + 1 }))
    const report = summarize(samples, 1000, 3000)
    expect(report).toMatchObject({ requests: 100, ok: 99, errors: 1, rps: 50, latency: { p50: 50, p90: 90, p99: 99, max: 99 } })
    expect(report.timeline.map((s) => s.requests)).toEqual([50, 50])
  })
})
