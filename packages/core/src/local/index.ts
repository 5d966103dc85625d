// Local adapters: run commands as child processes, store builds in a folder.
export { localExecutor, type LocalExecutorOptions } from './executor.js'
export { fileArtifacts, type FileArtifactsOptions, type FileArtifactStore, type FilePublishOptions } from './file-artifacts.js'
