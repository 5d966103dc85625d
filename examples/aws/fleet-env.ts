// The environment rollout.config.ts reads to reach an AWS-shaped local fleet's fakes
// (startAwsFleet): their loopback endpoints, the target group, and fake credentials.
import type { AwsFleet } from '@org/rolling-local-fleet/aws'

export function awsFleetEnv(fleet: AwsFleet): Record<string, string> {
  return {
    ROLLING_ELBV2_ENDPOINT: fleet.endpoints.elbv2,
    ROLLING_SSM_ENDPOINT: fleet.endpoints.ssm,
    ROLLING_S3_ENDPOINT: fleet.endpoints.s3,
    ROLLING_TARGET_GROUP: fleet.targetGroup.name,
    ROLLING_BUCKET: fleet.fakes.s3.bucket,
    AWS_REGION: 'us-east-1',
    // moto and the ELBv2 and SSM fakes accept any key pair.
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  }
}
