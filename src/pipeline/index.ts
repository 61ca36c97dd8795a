export { createPipeline } from './pipeline';
export type { Pipeline, PipelineDeps } from './pipeline';
export type { RateGuard } from './identity';
export type { Entry, Verdict } from './chain';
