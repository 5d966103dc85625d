// Values that name things on the host are validated before any command is built, on top
// of being shell-quoted: a version becomes a folder name, a shared path a link inside it.
import { ValidationError } from '@org/rolling-core'

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/
const SHA256 = /^[0-9a-f]{64}$/
const SEGMENT = /^[A-Za-z0-9._@+-]+$/

/** A release folder name: letters, digits, `.`, `_`, `+`, `-`, starting with a letter or digit. */
export function validateVersion(version: unknown, option = 'version'): string {
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new ValidationError(
      option,
      `expected a version of letters, digits, '.', '_', '+' or '-' (starting with a letter or digit, at most 128), got ${JSON.stringify(version)}`,
    )
  }
  return version
}

export function validateSha256(sha256: unknown, option = 'sha256'): string {
  if (typeof sha256 !== 'string' || !SHA256.test(sha256.toLowerCase()))
    throw new ValidationError(option, `expected 64 hex digits, got ${JSON.stringify(sha256)}`)
  return sha256.toLowerCase()
}

/** A path relative to the release and to `<root>/shared`: plain segments, no `..`, no leading `/`. */
export function validateSharedPath(path: unknown, option = 'shared'): string {
  const text = typeof path === 'string' ? path.replace(/\/+$/, '') : ''
  const segments = text.split('/')
  if (text === '' || segments.some((s) => s === '' || s === '.' || s === '..' || !SEGMENT.test(s))) {
    throw new ValidationError(option, `expected a relative path of plain names (no '..', no leading '/'), got ${JSON.stringify(path)}`)
  }
  return text
}

/** An absolute, normalised folder on the host. */
export function validateRoot(root: unknown, option = 'root'): string {
  const text = typeof root === 'string' ? root.replace(/\/+$/, '') : ''
  if (!text.startsWith('/') || text.split('/').some((s, i) => i > 0 && (s === '' || s === '.' || s === '..')) || /[\0\n]/.test(text)) {
    throw new ValidationError(option, `expected an absolute, normalised path, got ${JSON.stringify(root)}`)
  }
  return text
}
