// `rolling deploy --otel`: the real binary in a child process sends the rollout as a trace
// to a local OTLP/HTTP receiver (JSON), configured by the standard OTEL_* environment; a
// collector that hangs costs the export timeout and a warning, never the rollout.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI_ROOT, type Project, TSX, exitWithin, makeProject, runBin, runMain } from './support/project.js'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver.js'

let project: Project | undefined
let receiver: OtlpReceiver | undefined
afterEach(async () => {
  project?.remove()
  await receiver?.close()
  receiver = undefined
})

const ERROR = 2

describe('rolling deploy --otel', () => {
  it('sends the trace of a rollout with a failure: rollout > batch > target > phase, the failed ones errors', async () => {
    receiver = await startOtlpReceiver()
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    const run = runBin(['deploy', '--plain', '--otel'], {
      cwd: project.dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'deployer' },
    })
    expect(await exitWithin(run, 30_000)).toBe(2)
    expect(run.stderr).toBe('')
    expect(receiver.refused).toEqual([])
    const { spans } = receiver
    const byName = (name: string) => spans.filter((s) => s.name === name)
    const one = (name: string) => {
      const found = byName(name)
      expect(found, name).toHaveLength(1)
      return found[0] as ReceivedSpan
    }
    const rollout = one('rollout app')
    expect(rollout.parentSpanId ?? '').toBe('')
    expect(rollout.resource['service.name']).toBe('deployer')
    expect(rollout.attributes).toMatchObject({ 'rolling.service': 'app', 'rolling.version': 'v2', 'rolling.status': 'halted' })
    expect(rollout.status.code).toBe(ERROR)
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1)

    const batch1 = one('batch 1/3')
    const batch2 = one('batch 2/3')
    expect([batch1.parentSpanId, batch2.parentSpanId]).toEqual([rollout.spanId, rollout.spanId])
    const host1 = one('target host-1')
    const host2 = one('target host-2')
    expect(host1.parentSpanId).toBe(batch1.spanId)
    expect(host2.parentSpanId).toBe(batch2.spanId)
    expect(host1.attributes).toMatchObject({ 'rolling.target.id': 'host-1', 'rolling.outcome': 'done', 'rolling.version': 'v2' })
    expect(host2.attributes).toMatchObject({ 'rolling.target.id': 'host-2', 'rolling.outcome': 'failed' })
    expect(host2.status.code).toBe(ERROR)
    // host-3 was never reached: no span of it.
    expect(byName('target host-3')).toEqual([])

    const phasesOf = (target: ReceivedSpan) => spans.filter((s) => s.parentSpanId === target.spanId).map((s) => s.name)
    expect(phasesOf(host1)).toEqual(expect.arrayContaining(['precheck', 'detach', 'deploy', 'settle', 'attach']))
    const settle2 = spans.find((s) => s.parentSpanId === host2.spanId && s.name === 'settle') as ReceivedSpan
    expect(settle2.status.code).toBe(ERROR)
    expect(settle2.events).toEqual([{ name: 'exception', attributes: expect.objectContaining({ 'exception.message': expect.stringContaining('503') }) }])
    expect(phasesOf(host2)).not.toContain('attach')
  })

  it('warns and exits as the rollout did when the collector never answers, within the export timeout', async () => {
    receiver = await startOtlpReceiver({ hang: true })
    project = makeProject({ size: 1 })
    const started = Date.now()
    const run = runBin(['deploy', '--plain', '--otel'], {
      cwd: project.dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
    })
    expect(await exitWithin(run, 30_000)).toBe(0)
    expect(run.stdout).toMatch(/succeeded/)
    expect(run.stderr).toMatch(new RegExp(`^rolling: warning: \\[rolling:otel\\] traces not sent to ${receiver.endpoint}/v1/traces`))
    // Start-up (tsx from source), the rollout, then at most the 1 s deadline and bin.ts's 2 s grace.
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('refuses an OTLP protocol it cannot speak before anything is touched, naming the variable', async () => {
    project = makeProject({ size: 1 })
    const { code, stderr } = await runMain(['deploy', '--plain', '--otel'], { cwd: project.dir, env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })
    expect(code).toBe(4)
    expect(stderr.text()).toContain('OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported: rolling sends OTLP over HTTP (set http/json)')
    const status = await runMain(['status'], { cwd: project.dir })
    expect(status.stdout.text()).toContain('no rollout recorded')
  })

  it('loads the OpenTelemetry SDK only with --otel', async () => {
    receiver = await startOtlpReceiver()
    project = makeProject({ size: 1 })
    // The CLI's main in a fresh process, run without --otel and then with it; after each, how
    // many @opentelemetry modules Node has loaded (they are CommonJS: require.cache has them).
    const src = (file: string) => JSON.stringify(pathToFileURL(join(CLI_ROOT, 'src', file)).href)
    writeFileSync(
      join(project.dir, 'probe.mjs'),
      [
        `import { createRequire } from 'node:module'`,
        `const { main } = await import(${src('main.ts')})`,
        `const { processIo } = await import(${src('io.ts')})`,
        `const cache = createRequire(import.meta.url).cache`,
        `for (const args of JSON.parse(process.env.RUNS)) {`,
        `  const code = await main(args, processIo())`,
        `  const loaded = Object.keys(cache).filter((k) => k.includes('@opentelemetry')).length`,
        `  process.stderr.write('RUN ' + code + ' ' + loaded + '\\n')`,
        `}`,
        `process.exit(0)`,
      ].join('\n'),
    )
    const runs = [
      ['deploy', '--plain'],
      ['deploy', '--plain', '--otel', '--build', 'v2'],
    ]
    const child = spawn(process.execPath, ['--conditions', '@org/source', '--import', TSX, 'probe.mjs'], {
      cwd: project.dir,
      env: { PATH: process.env.PATH ?? '', RUNS: JSON.stringify(runs), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
    const results = [...stderr.matchAll(/^RUN (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])])
    expect(results, stderr).toHaveLength(2)
    // Exit 0 both times; none loaded without the flag, the SDK's modules with it.
    expect(results[0]).toEqual([0, 0])
    expect(results[1]?.[0]).toBe(0)
    expect(results[1]?.[1]).toBeGreaterThan(10)
  })
})
