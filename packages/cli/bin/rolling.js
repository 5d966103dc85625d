#!/usr/bin/env node
// The `rolling` executable that package managers link. The published package holds dist/
// and no src/: it runs the build. A checkout of the repository holds src/, and its dist/ is
// missing until a build and stale after any edit: it runs the TypeScript sources through tsx
// with the workspace's `@org/source` export condition (every @org/rolling-* package then
// resolves to its sources too), so `npx rolling` works right after `pnpm install`.
import { existsSync } from 'node:fs'
import { register } from 'node:module'

const source = new URL('../src/bin.ts', import.meta.url)
if (existsSync(source)) {
  let tsx
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    process.stderr.write('rolling: this checkout runs its TypeScript sources, which needs tsx: run `pnpm install` at the repository root\n')
    process.exit(1)
  }
  // Registered first, so it runs after tsx's resolver: what tsx resolves also gets the condition.
  const hook = "export const resolve = (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, '@org/source'] })"
  register(`data:text/javascript,${encodeURIComponent(hook)}`)
  tsx.register()
  await import(source.href)
} else {
  await import('../dist/bin.js')
}
