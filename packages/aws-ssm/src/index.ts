// @org/rolling-aws-ssm: an Executor that runs deploy commands through AWS Systems Manager Run Command.
export { ssmExecutor, SSM_OUTPUT_LIMIT, MAX_INSTANCES_PER_COMMAND, type SsmExecutor, type SsmExecResult } from './executor.js'
export type { SsmExecutorOptions } from './options.js'
