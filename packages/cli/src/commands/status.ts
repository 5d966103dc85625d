// `rolling status`: the last rollout of a service as its journal tells it, who holds the
// lock, and whether `rolling resume` is needed; as text or one JSON object.
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { type JournalRun, type LockHolder, isProcessAlive, readJournal } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { serviceState } from './service.js'
import { type JournalStatus, type TargetStatus, journalStatus } from './journal-status.js'
import { addressOf, formatDuration } from '../reporters/format.js'
import { ExitCode } from '../exit-codes.js'
import { statusMarkdown, writeStatusSummary } from './status-summary.js'
import { safeJson, safeLine } from '../safe-text.js'
import { completeHints, hintContext } from '../hints.js'

export interface LockStatus extends LockHolder {
  /**
   * Whether the holder's process runs; null when it is on another host (cannot be probed). For a
   * lock held by a lease (S3): whether the lease has not yet ended.
   */
  alive: boolean | null
}

export async function statusCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const { service, journal, lock, hasConfig, close } = await serviceState('status', args, io)
  let status: JournalStatus
  let run: JournalRun | undefined
  let holder: LockHolder | undefined
  try {
    try {
      const records = await journal.read()
      status = journalStatus(records, journal.location)
      if (args.summary !== undefined) run = readJournal(records, journal.location)
    } finally {
      await journal.close()
    }
    holder = await lock.inspect(service)
  } finally {
    close()
  }
  if (args.summary !== undefined) await writeStatusSummary(resolve(io.cwd, args.summary), statusMarkdown(service, status, run))
  const alive = (h: LockHolder) =>
    h.leaseUntil !== undefined ? !(Date.parse(h.leaseUntil) <= io.now()) : h.host === hostname() ? isProcessAlive(h.pid) : null
  const lockStatus: LockStatus | null = holder ? { ...holder, alive: alive(holder) } : null
  if (args.json) {
    io.stdout.write(`${safeJson({ service, journal: journal.location, ...status, lock: lockStatus })}\n`)
  } else {
    // The journal holds ids, builds and hosts that came from adapters: each line made safe to print.
    // The `rolling resume` / `rolling unlock` it suggests repeat this run's --config and --state-dir.
    const hints = hintContext(args, io.env)
    const lines = statusText(service, journal.location, status, lockStatus, io.now()).map((line) => safeLine(completeHints(line, hints)))
    if (status.state === 'none' && args.config === undefined && args.stateDir === undefined && !hasConfig) {
      lines.splice(3, 0, 'a rollout keeps its journal in the state folder of its config: name that config (--config <file>) or folder (--state-dir <dir>)')
    }
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return ExitCode.succeeded
}

export function statusText(service: string, location: string, status: JournalStatus, lock: LockStatus | null, now: number): string[] {
  const lines = [`service: ${service}`, `journal: ${location}`]
  if (status.state === 'none') {
    lines.push('no rollout recorded')
  } else {
    const started = status.startedAt ? `, started ${status.startedAt}${ago(status.startedAt, now)}` : ''
    lines.push(`run: ${status.runId}, build ${status.version ?? '?'} (asked for ${status.ref})${started}`)
    lines.push(
      status.resumeNeeded
        ? `status: interrupted${status.stopped ? ` (stopped at ${status.stopped.at} by an unexpected error: ${status.stopped.reason})` : ''}: \`rolling resume\` finishes it`
        : `status: ${status.state}${status.endedAt ? ` at ${status.endedAt}` : ''}: nothing to resume`,
    )
    const { total, finished, inProgress } = status.batches
    lines.push(
      `batches: ${finished} of ${total} finished${inProgress === undefined ? '' : `, batch ${inProgress} in progress`}${status.verifying ? ', verify started' : ''}`,
    )
    if (status.paused) {
      const p = status.paused
      lines.push(`paused after batch ${p.afterBatch} since ${p.since}, until ${p.until}: \`rolling approve\` goes on, \`rolling abort\` stops it`)
    }
    lines.push(`targets: ${countStates(status.targets)}`)
    lines.push(`out of the load balancer mid-step: ${listTargets(status.outOfService, true)}`)
    lines.push(`needs attention (failed, left out of the load balancer): ${listTargets(status.needsAttention, false)}`)
  }
  lines.push(`lock: ${describeLock(lock)}`)
  return lines
}

function countStates(targets: readonly TargetStatus[]): string {
  const counts = new Map<string, number>()
  for (const t of targets) counts.set(t.state, (counts.get(t.state) ?? 0) + 1)
  return counts.size === 0 ? 'none' : [...counts].map(([state, n]) => `${n} ${state}`).join(', ')
}

function listTargets(targets: readonly TargetStatus[], withState: boolean): string {
  if (targets.length === 0) return 'none'
  return targets.map((t) => `${t.id} (${addressOf(t)})${withState ? ` ${t.state}` : ''}`).join(', ')
}

function describeLock(lock: LockStatus | null): string {
  if (!lock) return 'free'
  const who = `held by run ${lock.runId} (pid ${lock.pid} on ${lock.host}) since ${lock.since}`
  if (lock.leaseUntil !== undefined) {
    return lock.alive
      ? `${who}; its lease runs until ${lock.leaseUntil}`
      : `${who}; its lease ended at ${lock.leaseUntil}: stale (\`rolling resume\` or \`rolling unlock\` clears it)`
  }
  if (lock.alive === null) return `${who}; on another host, so not checked`
  return lock.alive ? `${who}; that process is running` : `${who}; that process is not running: stale (\`rolling resume\` or \`rolling unlock\` clears it)`
}

function ago(iso: string, now: number): string {
  const at = Date.parse(iso)
  return Number.isNaN(at) || now < at ? '' : ` (${formatDuration(now - at)} ago)`
}
