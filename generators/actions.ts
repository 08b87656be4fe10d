import type { ActionType, CustomActionConfig, CustomActionFunction, NodePlopAPI } from 'node-plop';
import { FileTransaction } from './file-transaction.js';
import {
  blockingChanges,
  blockingReasons,
  type Change,
  type ChangeKind,
  type GeneratorData,
  planChanges,
} from './plan.js';

/** The last action of a real run: it puts the staged files in place. The CLI does not list it. */
export const COMMIT_ACTION = 'commit';

/**
 * The generator's actions: one per file, typed by what happens to it (plop reports each as a
 * change), then `commit`; or a single failing `conflicts` action when the run must write nothing.
 * The file actions only stage their content (file-transaction.ts), so a write that fails partway
 * leaves the project as it was.
 */
export function actionsFor(plop: NodePlopAPI, data: GeneratorData): ActionType[] {
  const changes = planChanges(plop, data);
  const blocking = blockingChanges(changes, data.force);
  if (data.dryRun) {
    // A dry run shows every change, the blocking ones as `conflict`.
    return changes.map((change) => action(blocking.includes(change) ? 'conflict' : change.kind, { change }));
  }
  if (blocking.length > 0) return [action('conflicts', { changes: blocking })];
  const transaction = new FileTransaction(plop.getDestBasePath());
  return [
    ...changes.map((change) => action(change.kind, { change, transaction })),
    action(COMMIT_ACTION, { transaction }),
  ];
}

/** A custom action's config: its type and what the action reads (plop hands the object over as it is). */
function action(type: string, fields: Record<string, unknown>): CustomActionConfig<string> {
  return { type, ...fields };
}

/** `create`, `update` and `overwrite` stage the planned content (not in a dry run); `unchanged` only reports. */
export function registerActionTypes(plop: NodePlopAPI): void {
  const stage: CustomActionFunction = async (answers, config) => {
    const change = config.change as Change;
    if (!(answers as GeneratorData).dryRun) {
      (config.transaction as FileTransaction).stage(change.path, change.content, change.mode);
    }
    return change.path;
  };
  const kinds: Record<ChangeKind, CustomActionFunction> = {
    create: stage,
    update: stage,
    overwrite: stage,
    unchanged: async (_answers, config) => (config.change as Change).path,
  };
  for (const [kind, action] of Object.entries(kinds)) plop.setActionType(kind, action);

  plop.setActionType(COMMIT_ACTION, async (_answers, config) => {
    (config.transaction as FileTransaction).commit();
    return 'done';
  });
  plop.setActionType('conflict', async (_answers, config) => {
    const change = config.change as Change;
    return `${change.path}: ${blockingReasons(change).join('; ')}`;
  });
  // Async so that plop reports the error's message as the failure, as it does for its own actions.
  plop.setActionType('conflicts', async (_answers, config) => {
    throw new Error(conflictsMessage(config.changes as Change[]));
  });
}

function conflictsMessage(changes: readonly Change[]): string {
  const list = (selected: Change[]) =>
    selected.flatMap((change) => blockingReasons(change).map((reason) => `  ${change.path}: ${reason}`));
  const inTheWay = changes.filter((change) => change.obstacle !== undefined);
  const overwritten = changes.filter((change) => change.obstacle === undefined);
  const sections: string[] = [];
  if (inTheWay.length > 0) {
    sections.push(
      'These are in the way, so nothing was written:',
      ...list(inTheWay),
      'Move them and run again: --force does not replace them.',
    );
  }
  if (overwritten.length > 0) {
    sections.push(
      inTheWay.length > 0
        ? 'These would be overwritten as well:'
        : 'These would be overwritten, so nothing was written:',
      ...list(overwritten),
      'Run again with --force to overwrite them, or with --dry-run to see every change.',
    );
  }
  return sections.join('\n');
}
