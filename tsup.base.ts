import { type Options, defineConfig } from 'tsup'

/**
 * The build every package shares: ESM only (Node >= 20.19 can require() ESM, and p-limit and
 * p-retry are ESM-only), type declarations, source maps. Packages add entries and externals.
 */
export function library(options: Options) {
  return defineConfig({ format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'node20', ...options })
}
