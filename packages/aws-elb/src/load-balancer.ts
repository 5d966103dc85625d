// The LoadBalancer adapter over ELBv2 target groups (ALB/NLB). Targets are registered
// targets of the configured groups (`<targetGroupName>/<id>:<port>`); detach deregisters a
// batch in one call per group and waits out the deregistration delay; attach registers it in
// one call per group and waits for ELB's own health checks to pass.
import { DescribeInstancesCommand, EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2'
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { TimeoutError } from '@org/rolling-core'
import { describeTarget, throwIfAborted } from '@org/rolling-core/adapter'
import type { AdapterContext, AttachResult, DetachResult, Discovery, ExcludedTarget, LoadBalancer, Target } from '@org/rolling-core'
import { allPages, caller } from './api.js'
import { type PollWait, pollTargets } from './poll.js'
import { byKey, type Group, instancePlaces, interleave, key, notInService, type Observed, parseBatch, type Ref } from './targets.js'
import { ElbError } from './errors.js'
import { DEFAULTS, type Elbv2LoadBalancerOptions, validate } from './options.js'

export type { Elbv2LoadBalancerOptions }

export interface Elbv2LoadBalancer extends LoadBalancer {
  readonly name: 'elbv2'
  readonly client: ElasticLoadBalancingV2Client
  inventory(ctx: AdapterContext): Promise<Discovery>
  detach(targets: readonly Target[], ctx: AdapterContext): Promise<DetachResult>
  attach(targets: readonly Target[], ctx: AdapterContext): Promise<AttachResult>
  /** Destroys the clients the adapter made (not ones passed in). */
  destroy(): void
}

export function elbv2LoadBalancer(options: Elbv2LoadBalancerOptions): Elbv2LoadBalancer {
  const opts = { ...DEFAULTS, ...options }
  validate(opts)
  const ownElb = !opts.client
  const client = opts.client ?? new ElasticLoadBalancingV2Client({ ...opts.clientConfig })
  let ec2: EC2Client | undefined = opts.ec2Client
  const ownEc2 = !opts.ec2Client
  const ec2Client = () => {
    ec2 ??= new EC2Client({ ...(opts.ec2ClientConfig ?? (opts.clientConfig as EC2ClientConfig | undefined)) })
    return ec2
  }
  const send = caller(opts)

  // Target groups are looked up once; a failed lookup is forgotten so the next call retries.
  let groups: Promise<Map<string, Group>> | undefined
  const resolveGroups = (ctx: AdapterContext): Promise<Map<string, Group>> => {
    groups ??= lookupGroups(ctx).catch((error: unknown) => {
      groups = undefined
      throw error
    })
    return groups
  }
  const lookupGroups = async (ctx: AdapterContext): Promise<Map<string, Group>> => {
    const arns = opts.targetGroups.filter((tg) => tg.startsWith('arn:'))
    const names = opts.targetGroups.filter((tg) => !tg.startsWith('arn:'))
    const found: TargetGroup[] = []
    // DescribeTargetGroups takes ARNs or names, not both in one call.
    for (const [key, values] of [
      ['TargetGroupArns', arns],
      ['Names', names],
    ] as const) {
      if (values.length === 0) continue
      // Paginated by Marker (up to 400 groups a page); one page in any real configuration.
      const pages = await allPages(
        (Marker) =>
          send('DescribeTargetGroups', (abortSignal, retrying) => client.send(retrying(new DescribeTargetGroupsCommand({ [key]: [...values], Marker })), { abortSignal }), ctx),
        (out) => out.NextMarker,
      ).catch((error: unknown) => {
        if (error instanceof ElbError && error.reason === 'unknown-target-group') {
          throw new ElbError('unknown-target-group', `target group(s) not found: ${values.join(', ')} (${(error.cause as Error).message})`, { cause: error })
        }
        throw error
      })
      for (const out of pages) found.push(...(out.TargetGroups ?? []))
    }
    const byName = new Map<string, Group>()
    for (const tg of found) {
      const type = tg.TargetType ?? 'instance'
      if (type !== 'instance' && type !== 'ip') {
        throw new ElbError('unsupported-target-type', `target group ${tg.TargetGroupName} has target type ${type}; only instance and ip groups are supported`)
      }
      byName.set(tg.TargetGroupName ?? '', { arn: tg.TargetGroupArn ?? '', name: tg.TargetGroupName ?? '', type })
    }
    return byName
  }

  const delayOf = (group: Group, ctx: AdapterContext): Promise<number> => {
    group.delayMs ??= send(
      'DescribeTargetGroupAttributes',
      (abortSignal, retrying) => client.send(retrying(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: group.arn })), { abortSignal }),
      ctx,
    ).then((out) => {
      const value = out.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value
      const seconds = value === undefined ? 300 : Number(value)
      return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 300_000
    })
    group.delayMs.catch(() => {
      group.delayMs = undefined
    })
    return group.delayMs
  }

  // One DescribeTargetHealth call for the group: every registered target, or only `refs`.
  // It is not paginated: AWS answers every target of the group (up to 1000) at once.
  const health = async (group: Group, refs: readonly Ref[] | undefined, ctx: AdapterContext): Promise<Observed[]> => {
    const Targets = refs?.map((ref) => ({ Id: ref.id, Port: ref.port }))
    const out = await send(
      'DescribeTargetHealth',
      (abortSignal, retrying) => client.send(retrying(new DescribeTargetHealthCommand({ TargetGroupArn: group.arn, Targets })), { abortSignal }),
      ctx,
    )
    return (out.TargetHealthDescriptions ?? []).map((d) => ({
      id: d.Target?.Id ?? '',
      port: d.Target?.Port,
      state: d.TargetHealth?.State ?? 'unknown',
      reason: d.TargetHealth?.Reason,
      description: d.TargetHealth?.Description,
      zone: d.Target?.AvailabilityZone,
    }))
  }

  // Validates every target before anything changes: a bad id in a batch touches no group.
  const plan = async (targets: readonly Target[], ctx: AdapterContext): Promise<Map<Group, Ref[]>> => parseBatch(targets, await resolveGroups(ctx))

  // Every registered target of every group, as targets: the healthy ones are candidates, the
  // rest (draining, unused, unhealthy, initial) are excluded with ELB's state and reason.
  const inventory = async (ctx: AdapterContext): Promise<Discovery> => {
    throwIfAborted(ctx.signal)
    const all = [...(await resolveGroups(ctx)).values()]
    const rows = interleave(await Promise.all(all.map(async (group) => (await health(group, undefined, ctx)).map((o) => ({ group, ...o })))))
    const instanceIds = [...new Set(rows.filter((row) => row.group.type === 'instance').map((row) => row.id))]
    const places = await instancePlaces(instanceIds, (InstanceIds, NextToken) =>
      send('DescribeInstances', (abortSignal, retrying) => ec2Client().send(retrying(new DescribeInstancesCommand({ InstanceIds, NextToken })), { abortSignal }), ctx),
    )
    const targets: Target[] = []
    const excluded: ExcludedTarget[] = []
    for (const row of rows) {
      const address = row.group.type === 'instance' ? places.get(row.id)?.ip : row.id
      if (!address && row.state === 'healthy') {
        throw new ElbError('unknown-instance', `instance ${row.id} of target group ${row.group.name} has no private IP in DescribeInstances`)
      }
      // `instanceId` lets an instance-addressed executor (ssmExecutor's default) find the host.
      const labels: Record<string, string> = { targetGroup: row.group.name, targetId: row.id }
      if (row.group.type === 'instance') labels.instanceId = row.id
      // `zone` feeds zone-aware batches (`zones: { label: 'zone' }`); 'all' is not a zone.
      const zone = places.get(row.id)?.zone ?? (row.zone === 'all' ? undefined : row.zone)
      if (zone) labels.zone = zone
      const target = { id: `${row.group.name}/${row.id}:${row.port}`, address: address ?? row.id, port: row.port, labels }
      if (row.state === 'healthy') targets.push(target)
      else excluded.push({ target, reason: notInService(row, row.group) })
    }
    return { targets, excluded }
  }

  const discover = async (ctx: AdapterContext): Promise<Target[]> => (await inventory(ctx)).targets

  const detach = async (targets: readonly Target[], ctx: AdapterContext): Promise<DetachResult> => {
    throwIfAborted(ctx.signal)
    if (targets.length === 0) return {}
    const batch = await plan(targets, ctx)
    const delays = await Promise.all([...batch.keys()].map((group) => delayOf(group, ctx)))
    const timeoutMs = ctx.drain?.timeoutMs ?? opts.drainTimeoutMs ?? Math.max(...delays) + opts.drainMarginMs
    const started = ctx.clock.now()
    const pending = new Map<Group, Ref[]>()
    const foreign: ExcludedTarget[] = []
    await Promise.all(
      [...batch].map(async ([group, refs]) => {
        const now = byKey(await health(group, refs, ctx))
        // ELBv2 keeps no owner for a deregistration: a target already draining or not
        // registered when this call starts was taken out by someone else (an operator, an
        // autoscaling hook), so it is left alone and never registered again by the rollout.
        // After a restart, the engine names the targets this rollout had begun to detach: one
        // of those found draining is its own drain, waited for; found unused, it is done.
        const resumed = new Set(ctx.resumedDetach ?? [])
        const own: Ref[] = []
        const live = refs.filter((ref) => {
          const seen = now.get(key(ref.id, ref.port))
          const state = seen?.state ?? 'unused'
          if (state !== 'draining' && state !== 'unused') return true
          if (resumed.has(ref.target.id)) {
            if (state === 'draining') own.push(ref)
          } else foreign.push({ target: ref.target, reason: `${notInService(seen ?? { state }, group)} when rolling came to detach it` })
          return false
        })
        if (own.length > 0) pending.set(group, own)
        if (live.length === 0) return
        throwIfAborted(ctx.signal)
        await send(
          'DeregisterTargets',
          (abortSignal, retrying) =>
            client.send(retrying(new DeregisterTargetsCommand({ TargetGroupArn: group.arn, Targets: live.map((r) => ({ Id: r.id, Port: r.port })) })), { abortSignal }),
          ctx,
        )
        pending.set(group, [...own, ...live])
      }),
    )
    if (pending.size === 0) return { foreign }
    // Draining ends by the deregistration delay (sooner when nothing is in flight): a poll
    // just after that moment, not up to a whole grown poll delay later.
    const expectAt = ctx.clock.now() + Math.min(timeoutMs, Math.max(...delays)) + Math.min(1000, opts.pollMs)
    try {
      await pollUntil(pending, 'drain', (_ref, o) => (o?.state ?? 'unused') !== 'unused', ctx, { timeoutMs, maxDelayMs: opts.pollMs * 4, expectAt })
      return { foreign }
    } catch (error) {
      if (!(error instanceof TimeoutError) || !ctx.drain) throw error
      // ELBv2 reports no connection count per target (only CloudWatch does), nor can it close
      // connections: at the drain timeout a target is still `draining`, and that is all it says.
      const after = `still draining after ${Math.round((ctx.clock.now() - started) / 1000)}s`
      const left = [...pending].flatMap(([group, refs]) => refs.map((ref) => ({ ref, group })))
      if (ctx.drain.onTimeout === 'halt') {
        return {
          foreign,
          undrained: left.map(({ ref }) => ({
            target: ref.target,
            reason: `${ref.target.id} ${after} (ELBv2 reports no connection count; connections were still open)`,
          })),
        }
      }
      return {
        foreign,
        forced: left.map(({ ref }) => ({
          target: ref.target,
          reason: `${ref.target.id} ${after}; ELBv2 cannot close connections: its deregistration delay ends them by itself`,
        })),
      }
    }
  }

  // ELBv2 cannot tell rolling's deregistration from an operator's (no owner field, see the
  // README): attach registers every target the engine hands it, which are only the ones its
  // journal says this rollout detached.
  const attach = async (targets: readonly Target[], ctx: AdapterContext): Promise<AttachResult> => {
    throwIfAborted(ctx.signal)
    if (targets.length === 0) return {}
    const batch = await plan(targets, ctx)
    throwIfAborted(ctx.signal)
    // RegisterTargets is idempotent: an already healthy target stays healthy.
    await Promise.all(
      [...batch].map(([group, refs]) =>
        send(
          'RegisterTargets',
          (abortSignal, retrying) =>
            client.send(retrying(new RegisterTargetsCommand({ TargetGroupArn: group.arn, Targets: refs.map((r) => ({ Id: r.id, Port: r.port })) })), { abortSignal }),
          ctx,
        ),
      ),
    )
    const pending = new Map(batch)
    const unhealthy = new Map<string, number>()
    await pollUntil(
      pending,
      'turn healthy',
      (ref, o, group) => {
        const state = o?.state ?? 'unused'
        // `unavailable` means health checks are disabled: the target takes traffic.
        if (state === 'healthy' || state === 'unavailable') return false
        const count = state === 'unhealthy' ? (unhealthy.get(ref.target.id) ?? 0) + 1 : 0
        unhealthy.set(ref.target.id, count)
        if (count >= opts.unhealthyPolls) {
          throw new ElbError(
            'unhealthy',
            `target ${describeTarget(ref.target)} is unhealthy in target group ${group.name} for ${count} consecutive polls: ${o?.reason ?? 'no reason'}${o?.description ? ` (${o.description})` : ''}`,
          )
        }
        return true
      },
      ctx,
      { timeoutMs: opts.attachTimeoutMs, maxDelayMs: opts.pollMs },
    )
    return {}
  }

  const pollUntil = (
    pending: Map<Group, Ref[]>,
    goal: string,
    waiting: (ref: Ref, seen: Observed | undefined, group: Group) => boolean,
    ctx: AdapterContext,
    wait: PollWait,
  ): Promise<void> => pollTargets(health, opts.pollMs, pending, goal, waiting, ctx, wait)

  return {
    name: 'elbv2',
    client,
    discover,
    inventory,
    detach,
    attach,
    destroy() {
      if (ownElb) client.destroy()
      if (ownEc2) ec2?.destroy()
    },
  }
}
