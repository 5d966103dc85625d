// What the ELBv2 adapter knows of targets: a target group, a target of a batch (parsed from
// `<targetGroupName>/<id>:<port>`), what DescribeTargetHealth said of it, and the small pure
// helpers over them.
import type { Target } from '@org/rolling-core'
import { describeTarget } from '@org/rolling-core/adapter'
import { allPages } from './api.js'
import { ElbError } from './errors.js'

export interface Group {
  arn: string
  name: string
  type: string
  /** Deregistration delay, read once. */
  delayMs?: Promise<number>
}

export interface Ref {
  target: Target
  group: Group
  /** Instance id or IP, as ELB names the target. */
  id: string
  port: number
}

export interface Observed {
  id: string
  port: number | undefined
  state: string
  reason?: string | undefined
  description?: string | undefined
  /** The target's Availability Zone, when DescribeTargetHealth names one (IP targets). */
  zone?: string | undefined
}

export const key = (id: string, port: number | undefined): string => `${id}:${port}`
export const byKey = (observed: Observed[]): Map<string, Observed> => new Map(observed.map((o) => [key(o.id, o.port), o]))
export const names = (refs: Iterable<Ref>): string => [...refs].map((ref) => ref.target.id).join(', ')

/** The batch's targets by group; throws before anything changes on an id of no configured group. */
export function parseBatch(targets: readonly Target[], known: Map<string, Group>): Map<Group, Ref[]> {
  const batch = new Map<Group, Ref[]>()
  for (const target of targets) {
    const slash = target.id.indexOf('/')
    const colon = target.id.lastIndexOf(':')
    const port = Number(target.id.slice(colon + 1))
    if (slash <= 0 || colon < slash + 2 || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ElbError('unknown-target', `target ${describeTarget(target)} is not <targetGroupName>/<id>:<port> of a configured target group`)
    }
    const name = target.id.slice(0, slash)
    const group = known.get(name)
    if (!group) {
      throw new ElbError('unknown-target-group', `target ${describeTarget(target)} names target group ${name}, not one of ${[...known.keys()].join(', ')}`)
    }
    const refs = batch.get(group) ?? []
    if (!refs.some((ref) => ref.target.id === target.id)) refs.push({ target, group, id: target.id.slice(slash + 1, colon), port })
    batch.set(group, refs)
  }
  return batch
}

/**
 * Private IP and Availability Zone of instance targets. AWS asks for at most 1000 ids per DescribeInstances call
 * (and refuses MaxResults with ids), so the ids go in chunks of 1000; each chunk still
 * follows NextToken, as EC2 answers at most 1000 instances per page.
 */
export async function instancePlaces(
  instanceIds: readonly string[],
  describe: (
    ids: string[],
    token: string | undefined,
  ) => Promise<{
    NextToken?: string | undefined
    Reservations?:
      | {
          Instances?:
            | { InstanceId?: string | undefined; PrivateIpAddress?: string | undefined; Placement?: { AvailabilityZone?: string | undefined } | undefined }[]
            | undefined
        }[]
      | undefined
  }>,
): Promise<Map<string, { ip?: string; zone?: string }>> {
  const places = new Map<string, { ip?: string; zone?: string }>()
  for (let at = 0; at < instanceIds.length; at += EC2_IDS_PER_CALL) {
    const ids = instanceIds.slice(at, at + EC2_IDS_PER_CALL)
    const pages = await allPages(
      (token) => describe(ids, token),
      (out) => out.NextToken,
    )
    for (const reservation of pages.flatMap((out) => out.Reservations ?? [])) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId) continue
        const place: { ip?: string; zone?: string } = {}
        if (instance.PrivateIpAddress) place.ip = instance.PrivateIpAddress
        if (instance.Placement?.AvailabilityZone) place.zone = instance.Placement.AvailabilityZone
        places.set(instance.InstanceId, place)
      }
    }
  }
  return places
}

/** Why a registered target is not a candidate, in ELB's words. */
export function notInService(o: { state: string; reason?: string | undefined; description?: string | undefined }, group: { name: string }): string {
  const why = o.state === 'draining' ? 'deregistered by someone else (not by rolling)' : o.state === 'unused' ? 'not registered or not in use' : 'not healthy'
  return `${o.state} in target group ${group.name}: ${why}${o.reason ? ` (${o.reason}${o.description ? `: ${o.description}` : ''})` : ''}`
}

/** Instance ids per DescribeInstances call, as AWS recommends. */
const EC2_IDS_PER_CALL = 1000

// Round-robin over the groups' lists: the engine cuts batches from the front of the
// candidates, so a batch then takes about the same share out of every group.
export function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = []
  const total = lists.reduce((n, l) => n + l.length, 0)
  for (let i = 0; out.length < total; i++) {
    for (const l of lists) if (i < l.length) out.push(l[i] as T)
  }
  return out
}
