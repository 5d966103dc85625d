// Names and manifests shared by every call of the S3 store: the same rules as core's
// file store, so a build can move between the two, and no key ever escapes its prefix.
import { RollingError, ValidationError } from '@org/rolling-core'
import { errorMessage } from '@org/rolling-core/adapter'
import type { Artifact } from '@org/rolling-core'

/** What `manifest.json` next to each build holds. */
export interface Manifest extends Artifact {
  /** File name of the build inside its version folder. */
  file: string
  /** Full object key of the build when it was published (informational). */
  key: string
}

// Names end up in keys and in remote commands: keep them boring.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/

export function checkName(what: 'service' | 'version' | 'file', value: unknown, source?: string): asserts value is string {
  if (typeof value !== 'string' || !NAME.test(value) || value.includes('..')) {
    throw new RollingError(
      'INVALID_OPTION',
      `[rolling:s3] invalid ${what} name ${JSON.stringify(value)}${source ? ` in ${source}` : ''}: ` +
        'expected letters, digits and . _ + - (starting with a letter or digit, no "..")',
    )
  }
}

/** `''` or a prefix ending in `/`, without empty or `..` segments. */
export function normalizePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new ValidationError('prefix', `expected a string, got ${typeof prefix}`)
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  const segments = trimmed.split('/')
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ValidationError('prefix', `expected key segments separated by single "/", no leading "/", no "." or "..", got ${JSON.stringify(prefix)}`)
  }
  return `${trimmed}/`
}

export function parseManifest(text: string, service: string, version: string, where: string): Manifest {
  const bad = (why: string) => new RollingError('ADAPTER', `[rolling:s3] manifest of build ${version} of ${service} (${where}) is invalid: ${why}`)
  let data: Partial<Manifest>
  try {
    data = JSON.parse(text) as Partial<Manifest>
  } catch (error) {
    throw bad(errorMessage(error))
  }
  if (data === null || typeof data !== 'object') throw bad('not a JSON object')
  if (data.service !== service || data.version !== version) throw bad(`it names ${String(data.service)} ${String(data.version)}`)
  if (typeof data.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(data.sha256)) throw bad('sha256 missing or not hex')
  if (typeof data.size !== 'number' || typeof data.builtAt !== 'string' || typeof data.file !== 'string') throw bad('size, builtAt or file missing')
  checkName('file', data.file, `the manifest of ${service} ${version}`)
  return data as Manifest
}

export function toArtifact(manifest: Manifest): Artifact {
  const { service, version, builtAt, sha256, size, metadata } = manifest
  return { service, version, builtAt, sha256, size, ...(metadata ? { metadata: { ...metadata } } : {}) }
}
