import { SessionDataError, SessionStoreError } from '../errors.js';

/** What every adapter accepts. */
export interface AdapterOptions {
  /**
   * Called with every error the session layer handles itself: a store outage (the response is a
   * 503), an unstorable value (500). Default: console.error.
   */
  onError?: (error: unknown) => void;
}

export const defaultOnError = (error: unknown): void => {
  console.error('[session]', error);
};

/** The status and body an adapter answers with when the session layer fails. */
export function failureResponse(error: unknown): { status: number; body: string } {
  if (error instanceof SessionStoreError)
    return { status: 503, body: 'Service Unavailable: the session store is not answering.' };
  if (error instanceof SessionDataError) return { status: 500, body: 'Internal Server Error' };
  return { status: 500, body: 'Internal Server Error' };
}
