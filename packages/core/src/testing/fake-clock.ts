// A clock for tests: time moves only when a test says so (`advance`, `runAll`) or,
// with `autoAdvance`, whenever the process has nothing else to do. This is what lets
// the engine's 60 s settle delay and minute-long drains run in no real time.
import type { Clock, TimerHandle } from '../types.js'
import { sleepOn } from '../clock.js'

export interface FakeClockOptions {
  /** Epoch ms the clock starts at. @default Date.UTC(2025, 0, 1) */
  start?: number
  /**
   * When timers are pending and the process is otherwise idle, jump to the earliest
   * timer and fire it. Turn off to drive time by hand with `advance()` / `runAll()`.
   * @default true
   */
  autoAdvance?: boolean
  /**
   * Holds auto-advance while it returns true. For work the idle check cannot see: an HTTP
   * request waiting for its answer on an open keep-alive socket holds no libuv request,
   * so without this, time could jump (and a deadline fire) while an API call is in flight.
   * @example () => fakeAws.inFlight > 0
   */
  busy?: () => boolean
  /**
   * Real milliseconds `busy` may hold time at most; after that time moves on until `busy`
   * turns false once, so a call that never returns cannot freeze fake time.
   * @default 5000
   */
  busyTimeoutMs?: number
}

interface Timer {
  id: number
  due: number
  fn: () => void
}

// In-flight libuv requests (fs, dns, connects, writes). While one is pending the
// process is not idle: jumping time then would fire a deadline while a journal write is
// still on disk. Long-lived handles (servers, sockets, children) are not counted.
const BUSY = /Req|ConnectWrap|WriteWrap|ShutdownWrap/
// A request that never completes must not freeze fake time forever.
const MAX_BUSY_CHECKS = 200

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

export class FakeClock implements Clock {
  #now: number
  readonly #autoAdvance: boolean
  readonly #busy: (() => boolean) | undefined
  readonly #busyTimeoutMs: number
  /** Real time (performance.now) since which `busy` has held time. */
  #busySince: number | undefined
  /** Min-heap on (due, id); cleared timers stay in it until they reach the top. */
  readonly #heap: Timer[] = []
  readonly #live = new Map<number, Timer>()
  #nextId = 1
  #checkScheduled = false
  #busyChecks = 0
  /** > 0 while `advance`/`runAll` drive time; the idle check stands back meanwhile. */
  #driving = 0

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.start ?? Date.UTC(2025, 0, 1)
    this.#autoAdvance = options.autoAdvance ?? true
    this.#busy = options.busy
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000
    if (!(this.#busyTimeoutMs >= 0)) throw new TypeError(`Expected \`busyTimeoutMs\` to be a number >= 0, got ${options.busyTimeoutMs}`)
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // NaN and negatives fire on the next turn, as Node does; Infinity never fires by itself.
    const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms)
    const timer: Timer = { id: this.#nextId++, due: this.#now + delay, fn }
    this.#live.set(timer.id, timer)
    this.#push(timer)
    this.#scheduleCheck()
    return timer.id
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#live.delete(handle)
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal)
  }

  /** Timers registered and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.#live.size
  }

  /** Epoch ms of the earliest pending timer, if any. */
  get nextDue(): number | undefined {
    return this.#peek()?.due
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order. The event loop turns
   * between firings, so a sleep started by a fired timer's continuation also fires
   * when it falls inside the window.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new TypeError(`Expected \`ms\` to be a number >= 0, got ${ms}`)
    const until = this.#now + ms
    this.#driving++
    try {
      await yieldToEventLoop()
      for (let next = this.#peek(); next && next.due <= until; next = this.#peek()) {
        this.#fire(next)
        await yieldToEventLoop()
      }
      this.#now = Math.max(this.#now, until)
    } finally {
      this.#driving--
      // Idle checks that fell inside the drive were dropped; timers past it still need one.
      this.#scheduleCheck()
    }
  }

  /** Fires timers until none is pending (including ones registered meanwhile). */
  async runAll(options: { limit?: number } = {}): Promise<void> {
    const limit = options.limit ?? 1_000_000
    this.#driving++
    try {
      await yieldToEventLoop()
      for (let fired = 0, next = this.#peek(); next && Number.isFinite(next.due); next = this.#peek()) {
        if (++fired > limit) throw new Error(`[rolling:fake-clock] runAll fired ${limit} timers; is a timer re-arming itself?`)
        this.#fire(next)
        await yieldToEventLoop()
      }
    } finally {
      this.#driving--
      // Idle checks that fell inside the drive were dropped; timers past it still need one.
      this.#scheduleCheck()
    }
  }

  #fire(timer: Timer): void {
    this.#pop()
    this.#live.delete(timer.id)
    this.#now = Math.max(this.#now, timer.due)
    timer.fn()
  }

  #scheduleCheck(): void {
    if (!this.#autoAdvance || this.#checkScheduled) return
    this.#checkScheduled = true
    setImmediate(() => this.#idleCheck())
  }

  // Runs after the microtasks queued so far and the pending I/O callbacks, so an
  // awaited chain has had its chance to register timers or resolve before time jumps.
  #idleCheck(): void {
    this.#checkScheduled = false
    if (this.#driving > 0) return
    const next = this.#peek()
    if (!next || !Number.isFinite(next.due)) return
    if (this.#held()) {
      this.#checkScheduled = true
      setTimeout(() => this.#idleCheck(), 1)
      return
    }
    this.#busyChecks = 0
    try {
      this.#fire(next)
    } finally {
      this.#scheduleCheck()
    }
  }

  // True while time must not jump: the caller's `busy` says so (within its time limit),
  // or libuv has requests in flight (within MAX_BUSY_CHECKS).
  #held(): boolean {
    if (this.#busy?.()) {
      const now = performance.now()
      this.#busySince ??= now
      if (now - this.#busySince < this.#busyTimeoutMs) return true
    } else this.#busySince = undefined
    if (this.#busyChecks < MAX_BUSY_CHECKS && process.getActiveResourcesInfo().some((r) => BUSY.test(r))) {
      this.#busyChecks++
      return true
    }
    return false
  }

  #peek(): Timer | undefined {
    let top = this.#heap[0]
    while (top && !this.#live.has(top.id)) {
      this.#pop()
      top = this.#heap[0]
    }
    return top
  }

  #push(timer: Timer): void {
    const heap = this.#heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(timer, heap[parent] as Timer)) break
      heap[i] = heap[parent] as Timer
      i = parent
    }
    heap[i] = timer
  }

  #pop(): void {
    const heap = this.#heap
    const last = heap.pop()
    if (!last || heap.length === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && before(heap[right] as Timer, heap[left] as Timer) ? right : left
      if (!before(heap[child] as Timer, last)) break
      heap[i] = heap[child] as Timer
      i = child
    }
    heap[i] = last
  }
}

// Equal due times fire in registration order, as real timers do.
function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.id < b.id)
}
