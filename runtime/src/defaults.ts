import { FILES_DEFAULTS } from './backends/files-options.js';
import { REDIS_DEFAULTS } from './backends/redis-options.js';
import { COMMON_DEFAULTS } from './options.js';

/** Every option's default, the shared ones and each backend's, as one public table. */
export const DEFAULTS = {
  ...COMMON_DEFAULTS,
  filenameTemplate: FILES_DEFAULTS.filenameTemplate,
  directory: FILES_DEFAULTS.directory,
  prefix: REDIS_DEFAULTS.prefix,
  commandTimeout: REDIS_DEFAULTS.commandTimeout,
  sweepInterval: FILES_DEFAULTS.sweepInterval,
} as const;
