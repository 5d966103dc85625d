// A rollout of the service `app` behind an ALB target group, deployed by SSM Run Command from
// builds in S3. Against real AWS, set AWS_REGION and credentials as usual and leave the
// *_ENDPOINT variables unset; `npx -y pnpm@12.4.2 --filter @org/example-aws start` runs the
// same thing against loopback fakes (see README.md).
//
//   ROLLING_TARGET_GROUP   the target group, by name or ARN (default 'app')
//   ROLLING_BUCKET         the S3 bucket of the builds (default 'builds')
//   ROLLING_ELBV2_ENDPOINT, ROLLING_SSM_ENDPOINT, ROLLING_S3_ENDPOINT   only for the fakes
import { elbv2LoadBalancer } from '@org/rolling-aws-elb'
import { ssmExecutor } from '@org/rolling-aws-ssm'
import { defineConfig } from '@org/rolling-cli'
import { httpHealthCheck } from '@org/rolling-core'
import { fleetRecipe } from '@org/rolling-local-fleet'
import { s3Artifacts } from '@org/rolling-s3'

export default defineConfig(({ env }) => {
  const region = env.AWS_REGION ?? 'us-east-1'
  // With an endpoint, the clients talk to that server (the loopback fakes) and fail fast.
  const client = (endpoint: string | undefined) => (endpoint ? { region, endpoint } : { region })
  return {
    service: 'app',
    loadBalancer: elbv2LoadBalancer({
      targetGroups: [env.ROLLING_TARGET_GROUP ?? 'app'],
      clientConfig: client(env.ROLLING_ELBV2_ENDPOINT),
      // AWS defaults are 5 s polls; the fakes' health checks run every 100 ms.
      ...(env.ROLLING_ELBV2_ENDPOINT ? { pollMs: 200, describeIntervalMs: 50, throttleBaseMs: 50 } : {}),
    }),
    executor: ssmExecutor({
      clientConfig: client(env.ROLLING_SSM_ENDPOINT),
      // The instance id comes from the ELBv2 target's `labels.instanceId` (the default `instanceId`).
      ...(env.ROLLING_SSM_ENDPOINT ? { pollMs: 100, maxPollMs: 500, throttleBaseMs: 50 } : {}),
    }),
    artifacts: s3Artifacts({
      bucket: env.ROLLING_BUCKET ?? 'builds',
      prefix: 'rolling/',
      // moto (the local S3) is reached by path-style URLs on loopback, without optional checksums.
      clientConfig: env.ROLLING_S3_ENDPOINT
        ? { ...client(env.ROLLING_S3_ENDPOINT), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : { region },
    }),
    // The hosts download the build from a presigned S3 URL, check its sha256, unpack it next to
    // the running release, then switch `current` and restart: replace with your own recipe.
    deploy: fleetRecipe(),
    healthCheck: httpHealthCheck({ timeoutMs: 2000 }),
    batch: [1, '34%'], // a canary, then a third of the fleet at a time
    minHealthy: '50%',
    settle: { interval: 500, successes: 2, deadline: 30_000 },
  }
})
