import { SessionConfigError } from '../errors.js';
import type { CommonOptions } from '../options.js';

export interface FilesOptions extends CommonOptions {
  /** Folder of the session files; created (mode 0700) when missing. Default './sessions'. */
  directory?: string;
  /**
   * File name with one `%s`, which stands for a keyed hash of the session id (the id itself is never
   * written to disk). Default 'emt_%s.sess'.
   */
  filenameTemplate?: string;
  /** Seconds between sweeps that delete expired files; 0 disables. Default 600. */
  sweepInterval?: number;
  /**
   * Use a `directory` that its group or others may write to, or that another user owns (a volume
   * shared by design). Without it such a folder is refused at start-up: whoever can write to it can
   * plant or replace sessions. Default false.
   */
  allowSharedDirectory?: boolean;
  /**
   * Two requests of one session that overlap each keep their changes: a write applies only the
   * top-level keys its request changed onto the session as stored now; on a key both changed, the
   * last write wins. \`false\`: the last write replaces the whole session (one request's changes
   * to other keys are lost). Default true.
   */
  merge?: boolean;
}

export const FILES_DEFAULTS = {
  filenameTemplate: 'emt_%s.sess',
  directory: './sessions',
  sweepInterval: 600,
} as const;

/**
 * `filenameTemplate` split around its `%s`. It needs exactly one `%s`, no path separator, no leading
 * dot, and a fixed prefix or suffix: the sweep deletes only names of this shape, and a bare `%s`
 * would match other files of the folder.
 */
export function filenameTemplateParts(template: string): [before: string, after: string] {
  const parts = template.split('%s');
  if (parts.length !== 2 || /[/\\\0]/.test(template) || template.startsWith('.')) {
    throw new SessionConfigError(
      `filenameTemplate ${JSON.stringify(template)} must contain exactly one %s, no path separator, and not start with a dot (for example 'emt_%s.sess').`,
    );
  }
  if (template === '%s') {
    throw new SessionConfigError(
      "filenameTemplate '%s' needs a fixed prefix or suffix around %s (for example 'emt_%s.sess'), so that the sweep can tell session files from other files.",
    );
  }
  return parts as [string, string];
}
