export { createApp } from './app';
export type { AppDeps, ProxyApp } from './app';
export { parseConfig, ConfigError } from './config';
export type { Config } from './config';
export { startRuntime } from './runtime';
export type { Runtime } from './runtime';
