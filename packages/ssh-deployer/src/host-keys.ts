// Host key checking, strict by default: the key a server presents must be listed for that
// host in a known_hosts file (plain or hashed `|1|salt|hash` names, `[host]:port` for a
// port other than 22, wildcards, `@revoked`) or pinned by its SHA256 fingerprint.
import { createHash, createHmac } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * How server host keys are checked.
 * - an object: the key must be in one of `knownHosts` files / `knownHostsText`, or match a pinned fingerprint;
 * - `'insecure-accept-any'`: no check at all (each connection then logs a warning).
 */
export type HostKeyPolicy =
  | 'insecure-accept-any'
  | {
      /** known_hosts files (OpenSSH format); a missing file counts as empty. @default ['~/.ssh/known_hosts'] when nothing else is given */
      knownHosts?: string | readonly string[]
      /** known_hosts lines given inline. */
      knownHostsText?: string
      /**
       * Pinned fingerprints (`SHA256:...` as `ssh-keygen -lf` prints them): a list any host may
       * present, or per host (`host` or `[host]:port`, `*` for any).
       */
      fingerprints?: PinnedFingerprints
    }

export type PinnedFingerprints = readonly string[] | Readonly<Record<string, string | readonly string[]>>

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority'
  patterns: string
  keyType: string
  key: string
}

/** A host key as ssh2 hands it over (the SSH wire blob), with what messages need. */
export interface PresentedKey {
  blob: Buffer
  type: string
  fingerprint: string
}

export function describeKey(blob: Buffer): PresentedKey {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0
  const type = blob.subarray(4, 4 + length).toString('latin1') || 'unknown'
  return { blob, type, fingerprint: fingerprintOf(blob) }
}

/** `SHA256:<base64 without padding>`, as OpenSSH prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** The name known_hosts uses for a server: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker']
    const [patterns, keyType, key] = fields
    if (!patterns || !keyType || !key) continue
    entries.push(marker ? { marker, patterns, keyType, key } : { patterns, keyType, key })
  }
  return entries
}

/** Whether a known_hosts host field (`a,b,!c`, wildcards, or one hashed name) names `name`. */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|')
    if (!salt || !hash) return false
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
  }
  let matched = false
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!')
    const glob = negated ? pattern.slice(1) : pattern
    if (!globMatch(glob.toLowerCase(), name.toLowerCase())) continue
    // A negated match wins over any positive one, as in OpenSSH.
    if (negated) return false
    matched = true
  }
  return matched
}

function globMatch(glob: string, text: string): boolean {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
  return new RegExp(`^${source}$`).test(text)
}

export type Verdict = { ok: true; via: string } | { ok: false; reason: string }

/** Checks keys against one policy; known_hosts files are read once and cached. */
export class HostKeyChecker {
  private entries: Promise<{ entries: KnownHostEntry[]; sources: string[] }> | undefined

  constructor(private readonly policy: HostKeyPolicy) {}

  get insecure(): boolean {
    return this.policy === 'insecure-accept-any'
  }

  /** Loads the known_hosts sources; call before connecting so the check itself is synchronous. */
  load(): Promise<{ entries: KnownHostEntry[]; sources: string[] }> {
    this.entries ??= this.read()
    return this.entries
  }

  /** The key types known for `name`, to offer only those algorithms in the handshake. */
  async knownTypes(host: string, port: number): Promise<string[]> {
    const { entries } = await this.load()
    const name = knownHostsName(host, port)
    return [...new Set(entries.filter((e) => !e.marker && hostMatches(e.patterns, name)).map((e) => e.keyType))]
  }

  /** Synchronous verdict on a presented key; `load()` must have resolved. */
  check(host: string, port: number, key: PresentedKey, loaded: { entries: KnownHostEntry[]; sources: string[] }): Verdict {
    if (this.policy === 'insecure-accept-any') return { ok: true, via: 'insecure-accept-any' }
    const name = knownHostsName(host, port)
    const blob = key.blob.toString('base64')
    const forHost = loaded.entries.filter((e) => hostMatches(e.patterns, name))
    if (forHost.some((e) => e.marker === '@revoked' && e.key === blob)) {
      return { ok: false, reason: `host key ${key.fingerprint} (${key.type}) of ${name} is marked @revoked` }
    }
    if (forHost.some((e) => !e.marker && e.key === blob)) return { ok: true, via: 'known_hosts' }
    const pinned = pinnedFor(this.policy.fingerprints, host, name)
    if (pinned.some((f) => normalizeFingerprint(f) === key.fingerprint)) return { ok: true, via: 'fingerprint' }
    const known = forHost.filter((e) => !e.marker).length
    const where = loaded.sources.length ? loaded.sources.join(', ') : 'no known_hosts source'
    const detail =
      known + pinned.length > 0
        ? `does NOT match the ${known} key(s) known for it in ${where}${pinned.length ? ` nor the ${pinned.length} pinned fingerprint(s)` : ''} ` +
          '(the host was reinstalled, or someone is intercepting the connection)'
        : `is unknown: ${name} is not in ${where} and no fingerprint is pinned for it ` +
          `(add it with \`ssh-keyscan -p ${port} ${host} >> ~/.ssh/known_hosts\` after checking the fingerprint out of band)`
    return { ok: false, reason: `host key ${key.fingerprint} (${key.type}) presented by ${name} ${detail}` }
  }

  private async read(): Promise<{ entries: KnownHostEntry[]; sources: string[] }> {
    if (this.policy === 'insecure-accept-any') return { entries: [], sources: [] }
    const { knownHosts, knownHostsText, fingerprints } = this.policy
    const files =
      knownHosts === undefined
        ? knownHostsText === undefined && fingerprints === undefined
          ? [join(homedir(), '.ssh', 'known_hosts')]
          : []
        : [knownHosts].flat()
    const entries: KnownHostEntry[] = []
    const sources: string[] = []
    for (const file of files) {
      try {
        entries.push(...parseKnownHosts(await readFile(file, 'utf8')))
        sources.push(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        sources.push(`${file} (missing)`)
      }
    }
    if (knownHostsText !== undefined) {
      entries.push(...parseKnownHosts(knownHostsText))
      sources.push('knownHostsText')
    }
    return { entries, sources }
  }
}

function pinnedFor(fingerprints: PinnedFingerprints | undefined, host: string, name: string): string[] {
  if (fingerprints === undefined) return []
  if (Array.isArray(fingerprints)) return [...fingerprints]
  const byHost = fingerprints as Readonly<Record<string, string | readonly string[]>>
  return [byHost[name], byHost[host], byHost['*']].flatMap((v) => (v === undefined ? [] : [v].flat()))
}

/** Accepts `SHA256:abc=` and `SHA256:abc` alike. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.trim().replace(/=+$/, '')
}

/** Host key algorithm names ssh2 negotiates for each known_hosts key type. */
export function algorithmsFor(keyTypes: readonly string[]): string[] {
  const out: string[] = []
  for (const type of keyTypes) {
    if (type === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa')
    else if (['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss'].includes(type)) out.push(type)
  }
  return [...new Set(out)]
}
