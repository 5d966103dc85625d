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
      ...batches.map((batch, i) => `  batch ${i + 1}/${batches.length}: ${targetsOf(batch)}`),
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
    }
    ctx.out.write(`${safeJson(out)}\n`)
  }
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
