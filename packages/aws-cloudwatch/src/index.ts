// @org/rolling-aws-cloudwatch: a rollout gate over CloudWatch alarms.
export { cloudwatchAlarms, type CloudWatchAlarmsOptions } from './alarms.js'
