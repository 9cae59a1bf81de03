import envPaths from 'env-paths';
import { join } from 'node:path';

/** The one place that knows where tn keeps its files; TN_CONFIG_DIR and TN_DATA_DIR override. */
export function configDir(env: NodeJS.ProcessEnv): string {
  return env.TN_CONFIG_DIR || envPaths('tn', { suffix: '' }).config;
}

export function dataDir(env: NodeJS.ProcessEnv): string {
  return env.TN_DATA_DIR || envPaths('tn', { suffix: '' }).data;
}

export const localDatabase = (env: NodeJS.ProcessEnv): string => join(dataDir(env), 'tn.db');
