// What a load balancer's inventory, detach and attach report, in one shape: adapters may
// implement only `discover`, and return nothing from detach and attach.
import type { AdapterContext, AttachResult, DetachResult, Discovery, LoadBalancer } from './types.js'

/** The candidates and the excluded targets, through `inventory` when the adapter has it. */
export async function discoverAll(lb: LoadBalancer, ctx: AdapterContext): Promise<Discovery> {
  if (!lb.inventory) return { targets: await lb.discover(ctx), excluded: [] }
  const found = await lb.inventory(ctx)
  return { targets: found.targets ?? [], excluded: found.excluded ?? [] }
}

/** A `detach` answer with every list present. */
export function toDetachResult(result: void | DetachResult): Required<DetachResult> {
  return { foreign: result?.foreign ?? [], undrained: result?.undrained ?? [], forced: result?.forced ?? [] }
}

/** An `attach` answer with every list present. */
export function toAttachResult(result: void | AttachResult): Required<AttachResult> {
  return { foreign: result?.foreign ?? [] }
}
