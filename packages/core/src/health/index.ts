// Health checks shipped with core: the HTTP `_status` check.
export { httpHealthCheck, type HttpHealthCheckOptions, type HttpHealthCheck } from './http.js'
