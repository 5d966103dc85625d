// Shared set-up: a fake SSM endpoint with N hosts, each a temp folder, and targets naming them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AdapterContext, Logger, Target } from '@org/rolling-core'
import { systemClock } from '@org/rolling-core'
import { type FakeSsm, startFakeSsm } from './fake-ssm.js'

export interface Fleet {
  fake: FakeSsm
  root: string
  targets: Target[]
  stop(): Promise<void>
}

export async function startFleet(hosts: number, throttleRate = 0): Promise<Fleet> {
  const root = await mkdtemp(join(tmpdir(), 'rolling-ssm-'))
  const targets: Target[] = []
  const map: Record<string, string> = {}
  for (let i = 1; i <= hosts; i++) {
    const instanceId = `i-${i.toString(16).padStart(17, '0')}`
    const dir = await mkdtemp(join(root, `host${i}-`))
    map[instanceId] = dir
    targets.push({ id: `web-${i}`, address: `127.0.0.${i + 1}`, labels: { instanceId } })
  }
  const fake = await startFakeSsm({ hosts: map, throttleRate })
  return {
    fake,
    root,
    targets,
    stop: async () => {
      await fake.close()
      await rm(root, { recursive: true, force: true })
    },
  }
}

export interface Recorded {
  ctx: AdapterContext
  warnings: string[]
  output: { stream: 'stdout' | 'stderr'; chunk: string }[]
}

export function recordingContext(extra: Partial<AdapterContext> = {}): Recorded {
  const warnings: string[] = []
  const output: Recorded['output'] = []
  const log: Logger = { debug() {}, info() {}, error() {}, warn: (message) => void warnings.push(message) }
  return {
    warnings,
    output,
    ctx: { signal: new AbortController().signal, clock: systemClock, log, output: (stream, chunk) => void output.push({ stream, chunk }), ...extra },
  }
}

export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection')
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
