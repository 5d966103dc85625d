// How `rolling plan` shows a dry run: the build, the candidates and each batch's targets,
// then the settle, failure and verify settings; or the same as one JSON object.
import type { Amount, Plan, ResolvedSettle } from '@org/rolling-core'
import type { PlanPrinter } from './reporter.js'
import { addressOf, describe, formatDuration } from './format.js'
import { safeJson, safeLine } from '../safe-text.js'

/** What `plan()` does not return but a reader of the plan wants to know. */
export interface PlanExtras {
  verify: boolean
  minHealthy: Amount
  /** `redeploy`: targets already on the build are deployed again (plan.current is then empty). */
  redeploy?: boolean
}

export function planText(extras: PlanExtras): PlanPrinter {
  return (plan, ctx) => {
    const { artifact, batches } = plan
    const lines = [
      `plan for ${plan.service}: build ${artifact.version} (built ${artifact.builtAt}, sha256 ${artifact.sha256.slice(0, 12)})`,
      `${plan.candidates.length} target(s) in service, ${batches.length} batch(es):`,
      ...batches.map((batch, i) => `  batch ${i + 1}/${batches.length}${zoneOf(plan, i)}: ${targetsOf(batch)}`),
      ...(plan.current.length > 0 ? [`already on ${artifact.version} (a deploy skips them; --redeploy deploys them too): ${targetsOf(plan.current)}`] : []),
      ...(extras.redeploy ? [`redeploy: on (targets already on ${artifact.version} are deployed again, not skipped)`] : []),
      ...(plan.excluded.length > 0
        ? [
            `excluded (taken out by an operator; not deployed, left as found): ${plan.excluded.length}`,
            ...plan.excluded.map((e) => `  ${describe(e.target)}: ${e.reason}`),
          ]
        : []),
      `settle: ${describeSettle(plan.settle)}`,
      plan.onFailure === 'halt'
        ? 'on failure: halt (a failed target stays out of the load balancer; no further batch starts)'
        : 'on failure: rollback (a failed target gets its previous build back; no further batch starts)',
      extras.verify ? `verify: on (more than ${plan.maxStopped} target(s) on the wrong build fails the rollout)` : 'verify: off',
      `min healthy: ${extras.minHealthy}`,
      ...controlLines(plan.control),
      'nothing was changed: this is a dry run',
    ]
    // Ids, builds and reasons come from the adapters: each line made safe to print.
    ctx.out.write(`${lines.map(safeLine).join('\n')}\n`)
  }
}

export function planJson(extras: PlanExtras): PlanPrinter {
  return (plan, ctx) => {
    const out = {
      service: plan.service,
      artifact: plan.artifact,
      candidates: plan.candidates,
      batches: plan.batches.map((batch) => batch.map((t) => t.id)),
      excluded: plan.excluded,
      current: plan.current.map((t) => t.id),
      settle: plan.settle,
      onFailure: plan.onFailure,
      maxStopped: plan.maxStopped,
      verify: extras.verify,
      minHealthy: extras.minHealthy,
      redeploy: extras.redeploy ?? false,
      control: plan.control,
    }
    ctx.out.write(`${safeJson(out)}\n`)
  }
}

function zoneOf(plan: Plan, i: number): string {
  const zones = plan.control?.zones?.perBatch[i]
  return zones ? ` (${zones.length === 1 ? 'zone' : 'zones'} ${zones.join(', ')})` : ''
}

/** Gates, pause, zones, failure budget, deadline and late joiners: only what is set. */
function controlLines(control: Plan['control'] | undefined): string[] {
  if (!control) return []
  const lines: string[] = []
  if (control.gates.length > 0) {
    lines.push(
      `gates: ${control.gates.join(', ')} after each batch and at the end${control.bake > 0 ? `, each watched ${formatDuration(control.bake)} before it passes` : ''}`,
    )
  }
  if (control.pause) {
    const after = control.pause.after === 'every-batch' ? 'every batch' : `batch ${control.pause.after.join(', ')}`
    lines.push(`pause: after ${after}, until \`rolling approve\` (${control.pause.onTimeout} after ${formatDuration(control.pause.timeout)})`)
  }
  if (control.zones) {
    const per = control.zones.maxPerZone === undefined ? 'one zone a batch' : `at most ${control.zones.maxPerZone} of each zone a batch`
    lines.push(
      `zones: by label ${control.zones.label}, ${per}${control.zones.minHealthy === undefined ? '' : `, min healthy ${control.zones.minHealthy} per zone`}`,
    )
  }
  if (control.maxFailures > 0) lines.push(`failure budget: ${control.maxFailures} target(s) may fail and be left out before the rollout halts`)
  if (control.deadlineMs !== undefined) lines.push(`deadline: the rollout aborts gracefully ${formatDuration(control.deadlineMs)} after it starts`)
  if (control.onMismatch === 'deploy') lines.push('late joiners: a target verify finds on another build is deployed like the others')
  return lines
}

function targetsOf(batch: Plan['batches'][number], max = 12): string {
  const shown = batch.slice(0, max).map((t) => (t.id === addressOf(t) ? t.id : describe(t)))
  return batch.length > max ? `${shown.join(', ')}, ... and ${batch.length - max} more` : shown.join(', ')
}

export function describeSettle(settle: ResolvedSettle): string {
  const wait = `wait ${formatDuration(settle.delay)}`
  const extras = `${settle.requireBuild ? '' : '; any build passes (requireBuild off)'}${settle.hold > 0 ? `; then held ${formatDuration(settle.hold)} in service before its batch counts` : ''}`
  if (settle.interval === undefined) return `${wait}, then check _status once${extras}`
  const streak = settle.successes > 1 ? ` until ${settle.successes} checks pass in a row` : ' until it answers 200'
  return `${wait}, then poll _status every ${formatDuration(settle.interval)}${streak} (give up ${formatDuration(settle.deadline)} after the deploy)${extras}`
}
