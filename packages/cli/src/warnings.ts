// Process warnings the CLI words itself. The AWS SDK v3 warns on Node < 22 that its releases
// after January 2027 will need Node 22, in 9 lines through process.emitWarning, once per copy
// of @aws-sdk/core loaded (a config with ELBv2, SSM and S3 can load two): that buried every
// AWS command's output. The CLI says it once, in one line, with the switch that hides it; the
// SDK's own `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true` silences it entirely.
// Every other warning goes to Node as it came.
import type { Writable } from 'node:stream'

const AWS_NODE_SUPPORT = /^NodeVersionSupportWarning\b/

export function shortenAwsNodeWarning(stderr: Writable, target: Pick<NodeJS.Process, 'emitWarning' | 'version'> = process): void {
  const emit = target.emitWarning.bind(target) as (...args: unknown[]) => void
  let said = false
  const emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning instanceof Error ? warning.message : ''
    if (!AWS_NODE_SUPPORT.test(text)) return emit(warning, ...rest)
    if (said) return
    said = true
    const needs = /node >=\s*(\d+)/i.exec(text)?.[1] ?? '22'
    stderr.write(
      `rolling: note: AWS SDK releases after January 2027 need Node >= ${needs}; this is Node ${target.version} (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true hides this note)\n`,
    )
  }
  target.emitWarning = emitWarning as NodeJS.Process['emitWarning']
}
