// A minimal adapter context for the local and health tests: real clock, a logger that
// records warnings, and an output sink that records streamed chunks in order.
import type { AdapterContext, Logger } from '../../src/types.js'
import { systemClock } from '../../src/clock.js'

export interface TestContext extends AdapterContext {
  chunks: { stream: 'stdout' | 'stderr'; chunk: string }[]
  warnings: string[]
  controller: AbortController
}

export function testContext(): TestContext {
  const controller = new AbortController()
  const chunks: TestContext['chunks'] = []
  const warnings: string[] = []
  const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) }
  return {
    signal: controller.signal,
    controller,
    clock: systemClock,
    log,
    chunks,
    warnings,
    output: (stream, chunk) => chunks.push({ stream, chunk }),
  }
}

/** The state letter of /proc/<pid>/stat (R, S, Z, ...), or undefined when the process is gone. */
export async function procState(pid: number): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** True when the process is gone or only a zombie waiting to be reaped by init. */
export async function isDead(pid: number): Promise<boolean> {
  const state = await procState(pid)
  return state === undefined || state === 'Z' || state === 'X'
}
