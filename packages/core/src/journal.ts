// The rollout journal: the engine appends each transition before it happens, so a
// crashed (even SIGKILLed) rollout can be resumed from what was written. JSON lines on
// disk, one synchronous write per record; an in-memory twin for tests and benchmarks.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { RollingError, errorMessage } from './errors.js'

export interface JournalRecord {
  type: string
  [key: string]: unknown
}

export interface Journal {
  /** Where it lives, for messages (a path, or 'memory'). */
  readonly location: string
  /** Records of the last run, in order ([] when none). A torn last line (crash mid-write) is ignored. */
  read(): Promise<JournalRecord[]>
  /** Empties the journal to start a new run. */
  reset(): Promise<void>
  /**
   * Appends records (one write for all of them); when it returns, they survive a crash of
   * this process. Synchronous on purpose: the engine calls it per transition and it must be cheap.
   */
  append(...records: JournalRecord[]): void
  close(): Promise<void>
}

export interface FileJournalOptions {
  /**
   * Also `fsync` after every append. `writeSync` alone puts the record in the kernel,
   * which survives a crash of this process; fsync also survives a machine crash, at a cost.
   * @default false
   */
  fsync?: boolean
}

const NEWLINE = 0x0a

/** A JSON-lines journal at `file`, opened once in append mode on first use. */
export function fileJournal(file: string, options: FileJournalOptions = {}): Journal & { readonly bytes: number } {
  const sync = options.fsync ?? false
  let fd: number | undefined
  let end = 0 // file size after our last complete write, to cut off a failed partial write
  let bytes = 0
  let closed = false

  const fail = (message: string, cause?: unknown) =>
    new RollingError('JOURNAL', `[rolling] journal ${file}: ${message}`, cause === undefined ? undefined : { cause })

  const open = (): number => {
    if (closed) throw fail('append after close')
    if (fd !== undefined) return fd
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      const created = !fs.existsSync(file)
      const handle = fs.openSync(file, 'a')
      try {
        // A torn last line from a crashed run would otherwise glue itself to our first
        // record and turn into a corrupt middle line; cut the file back to its last '\n'.
        end = cutTornTail(file, handle)
        // With fsync the file's directory entry must be durable too, or the file itself may vanish.
        if (sync && created) fsyncDir(path.dirname(file))
      } catch (error) {
        fs.closeSync(handle)
        throw error
      }
      fd = handle
      return handle
    } catch (error) {
      throw fail(`cannot open: ${errorMessage(error)}`, error)
    }
  }

  return {
    location: file,
    get bytes() {
      return bytes
    },
    append(...records) {
      if (records.length === 0) return
      const line = records.length === 1 ? serialize(records[0] as JournalRecord, fail) : records.map((r) => serialize(r, fail)).join('')
      const handle = open()
      try {
        let written = fs.writeSync(handle, line)
        const size = Buffer.byteLength(line)
        // Regular files rarely write short, but a short write (disk nearly full) must not leave half a line.
        if (written < size) {
          const buffer = Buffer.from(line)
          while (written < size) written += fs.writeSync(handle, buffer, written, size - written)
        }
        if (sync) fs.fsyncSync(handle)
        end += size
        bytes += size
      } catch (error) {
        // Cut off whatever part of the line made it, so the journal stays readable.
        try {
          fs.ftruncateSync(handle, end)
        } catch {
          // The write already failed; its error is the one worth reporting.
        }
        throw fail(`cannot append a ${records[0]?.type} record: ${errorMessage(error)}`, error)
      }
    },
    async read() {
      let text: string
      try {
        text = await fs.promises.readFile(file, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw fail(`cannot read: ${errorMessage(error)}`, error)
      }
      return parseLines(text, file)
    },
    async reset() {
      const handle = open()
      try {
        fs.ftruncateSync(handle, 0) // the fd is O_APPEND, so later writes start at 0 again
        if (sync) fs.fsyncSync(handle)
      } catch (error) {
        throw fail(`cannot reset: ${errorMessage(error)}`, error)
      }
      end = 0
      bytes = 0
    },
    async close() {
      closed = true
      if (fd === undefined) return
      const handle = fd
      fd = undefined
      fs.closeSync(handle)
    },
  }
}

/** A journal in memory; records go through JSON like the file's, so both behave alike. */
export function memoryJournal(): Journal & { readonly records: JournalRecord[]; readonly bytes: number } {
  const records: JournalRecord[] = []
  let bytes = 0
  const fail = (message: string, cause?: unknown) =>
    new RollingError('JOURNAL', `[rolling] journal memory: ${message}`, cause === undefined ? undefined : { cause })
  return {
    location: 'memory',
    records,
    get bytes() {
      return bytes
    },
    append(...added) {
      const lines = added.map((record) => serialize(record, fail))
      for (const line of lines) {
        records.push(JSON.parse(line) as JournalRecord)
        bytes += Buffer.byteLength(line)
      }
    },
    async read() {
      return records.map((r) => structuredClone(r))
    },
    async reset() {
      records.length = 0
      bytes = 0
    },
    async close() {},
  }
}

function serialize(record: JournalRecord, fail: (message: string, cause?: unknown) => RollingError): string {
  if (typeof record?.type !== 'string') throw fail(`a record needs a string \`type\`, got ${JSON.stringify(record)}`)
  try {
    return `${JSON.stringify(record)}\n`
  } catch (error) {
    // Better to refuse the transition now than to find an unreadable journal at resume.
    throw fail(`cannot serialize a ${record.type} record: ${errorMessage(error)}`, error)
  }
}

/** Parses JSON lines; an unterminated last line is a torn write and is dropped. */
function parseLines(text: string, file: string): JournalRecord[] {
  const records: JournalRecord[] = []
  const lines = text.split('\n')
  // The piece after the last '\n' is '' for a clean file, or the torn write of a crash.
  lines.pop()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new RollingError('JOURNAL', `[rolling] journal ${file} is corrupt at line ${i + 1}`, { cause: error })
    }
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
      throw new RollingError('JOURNAL', `[rolling] journal ${file} is corrupt at line ${i + 1}: not a record with a type`)
    }
    records.push(value as JournalRecord)
  }
  return records
}

/**
 * Truncates the file after its last '\n' (when its tail is torn) and returns the resulting
 * size. `fd` is the append-only descriptor; the tail is read through a second, read-only one.
 */
function cutTornTail(file: string, fd: number): number {
  const size = fs.fstatSync(fd).size
  if (size === 0) return 0
  const reader = fs.openSync(file, 'r')
  try {
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024))
    let pos = size
    while (pos > 0) {
      const length = Math.min(chunk.length, pos)
      pos -= length
      fs.readSync(reader, chunk, 0, length, pos)
      const at = chunk.lastIndexOf(NEWLINE, length - 1)
      if (at !== -1) {
        const keep = pos + at + 1
        if (keep !== size) fs.ftruncateSync(fd, keep)
        return keep
      }
    }
  } finally {
    fs.closeSync(reader)
  }
  fs.ftruncateSync(fd, 0) // one torn line and nothing else
  return 0
}

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsyncs still apply.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
