// Starts a local fleet for the `rolling` CLI and leaves it running: 6 app processes on v1
// behind a private HAProxy (whose runtime API the CLI drives from its own process), with v2
// built and published. Prints the command that rolls it; Ctrl-C here stops the fleet.
import { startFleet } from '@org/rolling-local-fleet'

const fleet = await startFleet({ size: 6, lb: 'haproxy', startupDelayMs: 300 })
const next = process.argv[2] ?? 'v2'
await fleet.publish(next)
console.log(`6 hosts on v1 behind HAProxy; traffic at ${fleet.url}; ${next} published as latest`)
console.log('\nin another terminal, from the repository root:\n')
console.log(`  ROLLING_FLEET_DIR=${fleet.dir} npx rolling deploy --config examples/local-fleet/rollout.config.ts\n`)
console.log('Ctrl-C here stops the fleet.')
const stop = async () => {
  await fleet.stop()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
