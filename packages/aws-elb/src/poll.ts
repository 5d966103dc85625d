// The one poll of the adapter's waits (drain and attach): DescribeTargetHealth once per group
// per poll, the whole batch in it, until no target is left waiting. The engine's deadline cuts
// the wait short; the timeout names the targets still pending and what was last seen of each.
import { type AdapterContext } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { byKey, type Group, key, names, type Observed, type Ref } from './targets.js'

export interface PollWait {
  timeoutMs: number
  maxDelayMs: number
  expectAt?: number
}

/** Polls until `waiting` says none is left; `waiting` may throw to fail fast. `pending` is updated as targets finish. */
export async function pollTargets(
  health: (group: Group, refs: readonly Ref[], ctx: AdapterContext) => Promise<Observed[]>,
  pollMs: number,
  pending: Map<Group, Ref[]>,
  goal: string,
  waiting: (ref: Ref, seen: Observed | undefined, group: Group) => boolean,
  ctx: AdapterContext,
  wait: PollWait,
): Promise<void> {
  await waitUntil(
    async () => {
      const observed: Record<string, string> = {}
      await Promise.all(
        [...pending].map(async ([group, refs]) => {
          const now = byKey(await health(group, refs, ctx))
          const left = refs.filter((ref) => {
            const o = now.get(key(ref.id, ref.port))
            const state = o?.state ?? 'unused'
            observed[ref.target.id] = o?.reason ? `${state} (${o.reason})` : state
            return waiting(ref, o, group)
          })
          if (left.length === 0) pending.delete(group)
          else pending.set(group, left)
        }),
      )
      return pending.size === 0 ? { state: 'done', value: undefined } : { state: 'retry', observed }
    },
    {
      what: `targets ${names([...pending.values()].flat())} to ${goal}`,
      label: 'elbv2',
      deadline: ctx.deadline,
      minDelayMs: pollMs,
      signal: ctx.signal,
      clock: ctx.clock,
      ...wait,
    },
  )
}
