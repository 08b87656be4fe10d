import { SessionError } from '../errors.js';
import type { SessionState } from '../state.js';

const NOTHING_TO_CHECK = () => {};

function snapshot(record: object): string | undefined {
  try {
    return JSON.stringify(record);
  } catch {
    return undefined; // an unstorable value set late: differs from any snapshot taken at commit
  }
}

/**
 * A session is committed with the response's headers; a change made later (while a body streams)
 * cannot be saved. Call this when committing; run the returned check once the response is finished:
 * it reports such a change through onError, so it is never lost silently.
 */
export function lateChangeCheck(state: SessionState<object>, onError: (error: unknown) => void): () => void {
  if (state.discarded) return NOTHING_TO_CHECK;
  const committed = snapshot(state.record);
  return () => {
    if (snapshot(state.record) === committed) return;
    onError(
      new SessionError(
        'SESSION_CHANGED_AFTER_COMMIT',
        'The session was changed after the response headers were sent, so the change was not saved. ' +
          'Change the session before you start streaming the response.',
      ),
    );
  };
}
