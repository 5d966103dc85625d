// Pause and approve between batches (the `pause` option): with every target of the batches
// so far back in service, the run waits for `rolling approve` / `rolling abort` (the control
// channel), `run.approve()` / `run.abort()`, or the pause's timeout. The pause and its
// release are journalled; a resumed run pauses again where a pause was left open, until the
// end that pause was given. Between batches a `rolling abort` sent while not paused is
// acted on too.
import type { Engine } from '../engine.js'
import { pausesAfter } from '../control-options.js'
import { type PauseDeps, type PauseEnd, abortRequested, pauseFor } from '../pause.js'
import { formatSpan } from '../control-options.js'

function deps(engine: Engine): PauseDeps {
  const control = engine.control
  return {
    service: engine.service,
    runId: engine.runId,
    clock: engine.clock,
    log: engine.log,
    control: control.channel,
    approvals: control.approvals,
    write: (...records) => engine.write(...records),
    stopSignal: engine.stopSignal,
    seen: control.seen,
  }
}

/** Pauses after batch `index` (0-based) when the options say so; an abort asks the run to stop. */
export async function pauseAfter(engine: Engine, index: number, total: number): Promise<void> {
  const control = engine.control
  const pause = control.pause
  if (engine.stopping) return
  const open = control.open?.index === index ? control.open : undefined
  if (!pause || !pausesAfter(pause, index, total) || (control.released.has(index) && !open)) {
    const asked = await abortRequested(deps(engine))
    if (asked) control.requestStop(abortReason(asked, index))
    return
  }
  const started = engine.clock.now()
  const until = open?.until ?? started + pause.timeout
  engine.emitter.emit('pause:start', {
    index,
    total,
    timeoutMs: Math.max(0, until - started),
    until,
    onTimeout: pause.onTimeout,
    resumed: open !== undefined,
    ...(control.channel ? { control: control.channel.location } : {}),
  })
  const end = await pauseFor(deps(engine), index, pause, open?.until)
  control.open = undefined
  control.released.add(index)
  const who = { ...(end.by === undefined ? {} : { by: end.by }), ...(end.note === undefined ? {} : { note: end.note }) }
  control.pauses.push({ index, how: end.how, ...who, durationMs: engine.clock.now() - started })
  engine.emitter.emit('pause:end', { index, total, how: end.how, ...who })
  if (end.next === 'abort' && !engine.stopping) control.requestStop(abortReason(end, index, pause.timeout))
}

function abortReason(end: PauseEnd, index: number, timeoutMs?: number): string {
  const who = `${end.by ? ` by ${end.by}` : ''}${end.note ? ` (${end.note})` : ''}`
  if (end.how === 'timeout') return `the pause after batch ${index + 1} was not approved within ${formatSpan(timeoutMs ?? 0)} (pause.onTimeout 'abort')`
  return `rolling abort${who} after batch ${index + 1}`
}
