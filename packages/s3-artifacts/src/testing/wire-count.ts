// Counts the HTTP requests a real S3 client sends, at the wire: a middleware in the SDK's
// `deserialize` step, which every attempt (retries included) passes on its way to the socket.
// For the call-count figures of the bench and the tests; the store's own counters count calls.
import type { S3Client } from '@aws-sdk/client-s3'

export interface WireRequest {
  method: string
  /** The object key (path-style: the path after the bucket), `''` for the bucket itself. */
  key: string
  /** `list` for a ListObjectsV2, else the HTTP method. */
  kind: 'GET' | 'PUT' | 'DELETE' | 'HEAD' | 'list' | string
}

export interface WireCount {
  readonly requests: readonly WireRequest[]
  /** Requests whose key `test` accepts, by kind. */
  count(test?: (key: string) => boolean): Record<string, number>
  reset(): void
}

export function countWire(client: S3Client): WireCount {
  const requests: WireRequest[] = []
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; path?: string; query?: Record<string, unknown> } | undefined
      if (request?.method) {
        // Path style (`/bucket/key`) or virtual-hosted (`/key`): the bucket, when there, is the first segment.
        const path = decodeURIComponent(request.path ?? '/').replace(/^\/+/, '')
        const key = client.config.forcePathStyle || /^\d+\.\d+\.\d+\.\d+$/.test(String((request as { hostname?: string }).hostname)) ? path.replace(/^[^/]*\/?/, '') : path
        const list = request.method === 'GET' && request.query?.['list-type'] === '2'
        requests.push({ method: request.method, key, kind: list ? 'list' : request.method })
      }
      return next(args)
    },
    { step: 'deserialize', name: 'rollingWireCount' },
  )
  return {
    requests,
    count(test) {
      const counts: Record<string, number> = {}
      for (const r of requests) if (!test || test(r.key)) counts[r.kind] = (counts[r.kind] ?? 0) + 1
      return counts
    },
    reset() {
      requests.length = 0
    },
  }
}
