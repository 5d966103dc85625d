import { FakeClock, memoryFleet, silentLogger } from '/work/main/packages/core/src/testing/index.ts'
const clock = new FakeClock({ start: 0 })
let t = performance.now()
const lap = (what: string) => { const n = performance.now(); console.log(what, Math.round(n - t)); t = n }
const fleet = memoryFleet({ size: 100_000, clock, drainMs: 5_000, attachMs: 2_000 })
lap('create')
const ctx = { signal: new AbortController().signal, clock, log: silentLogger }
fleet.publish('v2')
const all = await fleet.lb.discover(ctx)
lap('discover')
for (let i = 0; i < all.length; i += 25_000) {
  const batch = all.slice(i, i + 25_000)
  await fleet.lb.detach(batch, ctx); lap('detach')
  const artifact = await fleet.artifacts.resolve('app', 'latest', ctx)
  await Promise.all(batch.map(async (target) => {
    const location = await fleet.artifacts.locate(artifact, target, ctx)
    await fleet.recipe.deploy({ target, artifact, location, exec: (r) => fleet.executor.run(target, r, ctx) } as any)
  })); lap('deploy')
  await Promise.all(batch.map((t) => fleet.health.check(t, ctx))); lap('health')
  await fleet.lb.attach(batch, ctx); lap('attach')
}
