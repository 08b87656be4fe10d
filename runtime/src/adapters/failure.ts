import { SessionDataError, SessionStoreError } from '../errors.js';

/**
 * Headers that describe a response's body (its framing, encoding, range, identity). A failure
 * answer replaces the body, so it drops them: a 503 with the route's `Transfer-Encoding: chunked`
 * beside its own Content-Length, or a plain text body marked gzip, is not valid HTTP.
 */
export const BODY_HEADERS: readonly string[] = [
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'content-range',
  'content-disposition',
  'content-language',
  'content-location',
  'etag',
  'last-modified',
  'trailer',
];

/** The status and body an adapter answers with when the session layer fails. */
export function failureResponse(error: unknown): { status: number; body: string } {
  if (error instanceof SessionStoreError)
    return { status: 503, body: 'Service Unavailable: the session store is not answering.' };
  if (error instanceof SessionDataError) return { status: 500, body: 'Internal Server Error' };
  return { status: 500, body: 'Internal Server Error' };
}
