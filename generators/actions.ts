import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ActionType, CustomActionConfig, CustomActionFunction, NodePlopAPI } from 'node-plop';
import { blockingConflicts, type Change, type ChangeKind, type GeneratorData, planChanges } from './plan.js';

/**
 * The generator's actions: one per file, typed by what happens to it (plop reports each as a
 * change), or a single failing `conflicts` action when the run must write nothing.
 */
export function actionsFor(plop: NodePlopAPI, data: GeneratorData): ActionType[] {
  const changes = planChanges(plop, data);
  const blocking = blockingConflicts(changes, data.force);
  if (blocking.length > 0 && !data.dryRun) return [conflictsAction(blocking)];
  // A dry run shows every change, the blocking ones as `conflict`.
  return changes.map(
    (change): CustomActionConfig<string> => ({
      type: blocking.includes(change) ? 'conflict' : change.kind,
      change,
    }),
  );
}

function conflictsAction(changes: Change[]): CustomActionConfig<'conflicts'> {
  return { type: 'conflicts', changes };
}

/** `create`, `update` and `overwrite` write the planned content (not in a dry run); `unchanged` only reports. */
export function registerActionTypes(plop: NodePlopAPI): void {
  const write: CustomActionFunction = async (answers, config) => {
    const change = config.change as Change;
    if (!(answers as GeneratorData).dryRun) {
      const target = join(plop.getDestBasePath(), change.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, change.content);
    }
    return change.path;
  };
  const kinds: Record<ChangeKind, CustomActionFunction> = {
    create: write,
    update: write,
    overwrite: write,
    unchanged: async (_answers, config) => (config.change as Change).path,
  };
  plop.setActionType('conflict', async (_answers, config) => {
    const change = config.change as Change;
    return `${change.path}: ${change.conflicts.join('; ')}`;
  });
  for (const [kind, action] of Object.entries(kinds)) plop.setActionType(kind, action);

  // Async so that plop reports the error's message as the failure, as it does for its own actions.
  plop.setActionType('conflicts', async (_answers, config) => {
    const lines = (config.changes as Change[]).flatMap((change) =>
      change.conflicts.map((conflict) => `  ${change.path}: ${conflict}`),
    );
    throw new Error(`These would be overwritten, so nothing was written:\n${lines.join('\n')}`);
  });
}
