// `rolling status --summary <file>`: the last rollout as its journal tells it, in Markdown,
// with its timeline (a Mermaid Gantt chart from the journal's time-stamped records), for a
// run that died or was looked at after the fact (a CI step after the deploy step).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { JournalRun } from '@org/rolling-core'
import type { JournalStatus } from './journal-status.js'
import { timelineFromJournal } from '../reporters/timeline/from-journal.js'
import { mermaidGantt } from '../reporters/timeline/mermaid.js'
import { markdownCode, markdownText } from '../safe-text.js'
import { CliError, messageOf } from '../errors.js'
import { ExitCode } from '../exit-codes.js'

export function statusMarkdown(service: string, status: JournalStatus, run: JournalRun | undefined): string {
  const cell = (text: string) => markdownText(text.replace(/\s*\n\s*/g, ' | '))
  const lines = [`## rolling status ${cell(service)}: ${status.state === 'interrupted' ? 'interrupted, `rolling resume` finishes it' : status.state}`, '']
  if (!run || status.state === 'none') {
    lines.push('No rollout recorded.', '', '')
    return lines.join('\n')
  }
  const ended = status.endedAt ? `, ended ${cell(status.endedAt)}` : ''
  lines.push(`Run ${markdownCode(run.runId)}, build **${cell(run.artifact.version)}** (asked for ${cell(run.ref)}), started ${cell(run.start.at)}${ended}.`)
  const counts = new Map<string, number>()
  for (const t of status.targets) counts.set(t.state, (counts.get(t.state) ?? 0) + 1)
  lines.push('', `Batches: ${status.batches.finished} of ${status.batches.total} finished. Targets: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}.`)
  if (status.outOfService.length > 0)
    lines.push('', `**Out of the load balancer mid-step**: ${status.outOfService.map((t) => `${markdownCode(t.id)} (${t.state})`).join(', ')}`)
  if (status.needsAttention.length > 0)
    lines.push('', `**Needs attention** (failed, left out of the load balancer): ${status.needsAttention.map((t) => markdownCode(t.id)).join(', ')}`)
  const timeline = timelineFromJournal(run)
  lines.push('', '### Timeline', '')
  if (timeline) lines.push(...mermaidGantt(timeline, { title: `${service} ${run.artifact.version}, ${status.state}` }))
  else lines.push('The journal records no times (written by a version of rolling before they were recorded).')
  lines.push('', '')
  return lines.join('\n')
}

/** Writes the summary; a file that cannot be written is a clear error naming it and the flag. */
export async function writeStatusSummary(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, text)
  } catch (error) {
    throw new CliError(`rolling status: cannot write --summary ${path}: ${messageOf(error)}`, ExitCode.failed, { cause: error })
  }
}
