// The control channel on S3: each message is its own object,
// `<prefix><service>/control/<sent-at ms, zero-padded>-<id>.json`, created with
// `If-None-Match: *` so a message is never overwritten; keys sort in the order sent, so
// `receive` lists the folder once and reads only the messages after the last one it saw.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3'
import type { ControlChannel, ControlMessage } from '@org/rolling-core'
import { RollingError, ValidationError } from '@org/rolling-core'
import { errorMessage } from '@org/rolling-core/adapter'
import { checkName } from '../names.js'
import type { ObjectStore } from './objects.js'

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export function s3Control(store: ObjectStore, prefix: string): ControlChannel {
  const folder = (service: string) => {
    checkName('service', service)
    return `${prefix}${service}/control/`
  }
  return {
    location: `s3://${store.bucket}/${prefix}`,

    async send(service, message, ctx) {
      if (typeof message?.id !== 'string' || !ID.test(message.id))
        throw new ValidationError('message.id', `expected letters, digits and . _ -, got ${JSON.stringify(message?.id)}`)
      if (message.kind !== 'approve' && message.kind !== 'abort')
        throw new ValidationError('message.kind', `expected approve or abort, got ${JSON.stringify(message.kind)}`)
      const at = Date.parse(message.at)
      if (Number.isNaN(at)) throw new ValidationError('message.at', `expected an ISO-8601 time, got ${JSON.stringify(message.at)}`)
      const key = `${folder(service)}${String(at).padStart(15, '0')}-${message.id}.json`
      if ((await store.put(key, message, { ifNoneMatch: true }, ctx?.signal)) === 'conflict') {
        throw new RollingError('ADAPTER', `[rolling:s3] control message ${message.id} for ${service} was already sent (s3://${store.bucket}/${key})`)
      }
    },

    async receive(service, options, ctx) {
      const base = folder(service)
      const keys: string[] = []
      let token: string | undefined
      do {
        store.calls.list++
        let page: ListObjectsV2CommandOutput
        try {
          page = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: base, ContinuationToken: token }), {
            abortSignal: ctx?.signal,
          })
        } catch (error) {
          throw new RollingError('ADAPTER', `[rolling:s3] cannot list s3://${store.bucket}/${base}: ${errorMessage(error)}`, { cause: error })
        }
        for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      keys.sort()
      const after = options?.after
      const start = after === undefined ? 0 : keys.findIndex((key) => key.endsWith(`-${after}.json`)) + 1
      const messages: ControlMessage[] = []
      for (const key of keys.slice(start)) {
        const stored = await store.get(key, (text) => JSON.parse(text) as ControlMessage, ctx?.signal)
        if (stored) messages.push(stored.value)
      }
      return messages
    },
  }
}
