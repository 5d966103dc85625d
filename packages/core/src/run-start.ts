// Before anything is touched: the lock (a crashed run's own lock is broken to resume it),
// no unfinished journal behind a new run, and the build resolved and its bytes checked.
import { hostname } from 'node:os'
import type { Artifact } from './types.js'
import type { Engine } from './engine.js'
import { type LockLease, LockedError, isProcessAlive } from './lock.js'
import { RollingError } from './errors.js'

export async function takeLock(engine: Engine, resumingRun: string | undefined): Promise<LockLease> {
  const holder = { runId: engine.runId, pid: process.pid, host: hostname(), since: new Date(engine.clock.now()).toISOString(), service: engine.service }
  if (resumingRun !== undefined) {
    // The crashed run's own lock: resuming that run is the explicit act that breaks it.
    const current = await engine.lock.inspect(engine.service)
    if (current && current.runId === resumingRun && current.host === holder.host && current.pid !== process.pid) {
      if (!isProcessAlive(current.pid)) {
        engine.log.warn(`[rolling] breaking the stale lock of interrupted run ${resumingRun} (pid ${current.pid}) to resume it`)
        await engine.lock.break(engine.service)
      }
    }
  }
  try {
    // The lease of a lock on S3 is renewed on the run's clock.
    return await engine.lock.acquire(engine.service, holder, { clock: engine.clock })
  } catch (error) {
    // A lock on another machine (S3) cannot probe the pid: it calls the crashed run's lock stale
    // when its lease ended. Resuming that very run is the same explicit act that breaks it.
    if (resumingRun === undefined || !(error instanceof LockedError) || !error.stale || error.holder.runId !== resumingRun) throw error
    engine.log.warn(`[rolling] taking over the stale lock of interrupted run ${resumingRun} (${error.message}) to resume it`)
    await engine.lock.break(engine.service)
    return engine.lock.acquire(engine.service, holder, { clock: engine.clock })
  }
}

export async function refuseUnfinished(engine: Engine): Promise<void> {
  const records = await engine.journal.read()
  const start = records[0]
  if (start?.type === 'start' && !records.some((r) => r.type === 'end')) {
    throw new RollingError(
      'JOURNAL',
      `[rolling] the journal ${engine.journal.location} holds an unfinished rollout of ${engine.service} (run ${String(start.runId)}, started ${String(start.at)}): ` +
        'finish it with resume() / `rolling resume`, or delete the journal to discard it',
    )
  }
}

/** Resolves the build and checks its bytes before any target is touched. */
export async function resolveArtifact(engine: Engine, ref: string, recorded: Artifact | undefined): Promise<Artifact> {
  return engine.withContext(`resolve of ${engine.service}@${ref}`, engine.timeouts.precheck * 6, async (ctx) => {
    const artifact = await engine.artifacts.resolve(engine.service, ref, ctx)
    if (recorded && (artifact.sha256 !== recorded.sha256 || artifact.size !== recorded.size)) {
      throw new RollingError(
        'ARTIFACT_INTEGRITY',
        `[rolling:${engine.artifacts.name}] build ${ref} of ${engine.service} changed since the interrupted run: sha256 was ${recorded.sha256}, is now ${artifact.sha256}`,
      )
    }
    if (engine.artifacts.verify) await engine.artifacts.verify(artifact, ctx)
    else engine.log.warn(`[rolling] the ${engine.artifacts.name} artifact store cannot verify checksums; deploying ${artifact.version} unverified`)
    return artifact
  })
}
