// Starts the AWS-shaped local fleet this example's config deploys to: 6 app processes as EC2
// instances in an ELBv2 target group (a loopback fake of the ELBv2/EC2 Query APIs), managed by
// a fake SSM that runs commands in each host's folder, builds in moto's S3, and an
// ALB-like data plane. Publishes v2 and prints the command that rolls the fleet to it.
import { startAwsFleet } from '@org/rolling-local-fleet/aws'
import { awsFleetEnv } from './fleet-env.js'

const fleet = await startAwsFleet({ size: 6 })
const next = process.argv[2] ?? 'v2'
await fleet.publish(next)
const env = awsFleetEnv(fleet)
console.log(`6 hosts on v1 behind target group '${fleet.targetGroup.name}'; ${next} published to s3://builds/rolling/ as latest`)
console.log(`traffic goes through ${fleet.url}`)
console.log('\nin another terminal, from the repository root:\n')
console.log(
  `  ${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' \\\n  ')} \\`,
)
console.log(
  `  npx rolling deploy --config examples/aws/rollout.config.ts --state-dir ${fleet.stateDir}\n`,
)
console.log('Ctrl-C here stops the fleet.')
const stop = async () => {
  await fleet.stop()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
