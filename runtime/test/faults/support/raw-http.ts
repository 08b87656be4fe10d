import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/**
 * Sends a GET with the given Cookie header bytes over a plain socket (fetch refuses bytes that are
 * not valid header text, and merges duplicated headers) and reads the whole response.
 * `cookies` may hold several values: each becomes its own `Cookie:` line.
 */
export function rawGet(port: number, path: string, cookies: Buffer[]): Promise<RawResponse> {
  const head: Buffer[] = [Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1')];
  for (const cookie of cookies) head.push(Buffer.from('Cookie: ', 'latin1'), cookie, Buffer.from('\r\n', 'latin1'));
  head.push(Buffer.from('\r\n', 'latin1'));
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no response within 10 s for ${path}`)));
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(parse(Buffer.concat(received)));
      } catch (error) {
        reject(error);
      }
    });
    // write, not end: node's server drops a pending response when the client half-closes.
    socket.write(Buffer.concat(head));
  });
}

function parse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`incomplete response: ${JSON.stringify(raw.toString('latin1'))}`);
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  let body = raw.subarray(split + 4);
  if (headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value))) body = dechunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A response read byte for byte, with what a strict HTTP/1.1 client would make of it. */
export interface StrictResponse {
  /** Every byte the server sent before it closed the connection. */
  readonly raw: Buffer;
  /** How many status lines the bytes hold: a second set of headers after a first is never valid. */
  readonly statusLines: number;
  readonly status: number;
  readonly headers: Array<[string, string]>;
  /** The body as framed by the headers (de-chunked), as far as it arrived. */
  readonly body: string;
  /** Both Transfer-Encoding and Content-Length: an invalid response (RFC 9112 6.3: a client must reject it). */
  readonly conflictingFraming: boolean;
  /** The body arrived whole, as its framing says (the last chunk, or Content-Length bytes). */
  readonly complete: boolean;
  /** The server reset or closed the connection before the response was complete. */
  readonly aborted: boolean;
  header(name: string): string[];
}

/**
 * Sends a request over a plain socket and reads until the server closes it. `onData` sees the text
 * received so far, so a test can let the server go on once a first chunk has arrived.
 */
export function strictRequest(
  port: number,
  request: { method?: string; path: string; cookie?: string },
  onData?: (received: string) => void,
): Promise<StrictResponse> {
  const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  if (request.cookie !== undefined) lines.push(`Cookie: ${request.cookie}`);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let reset = false;
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no end of response within 10 s for ${request.path}`)));
    socket.on('data', (chunk) => {
      received.push(chunk);
      onData?.(Buffer.concat(received).toString('latin1'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') reset = true;
      else reject(error);
    });
    socket.on('close', () => resolve(parseStrict(Buffer.concat(received), reset)));
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

function parseStrict(raw: Buffer, reset: boolean): StrictResponse {
  const text = raw.toString('latin1');
  const statusLines = text.match(/(^|\r\n)HTTP\/1\.[01] \d{3}/g)?.length ?? 0;
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? '' : raw.subarray(0, split).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = lines
    .filter((line) => line.includes(':'))
    .map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
  const header = (name: string) => headers.filter(([key]) => key === name).map(([, value]) => value);
  const chunked = header('transfer-encoding').some((value) => /chunked/i.test(value));
  const length = header('content-length');
  const rest = split === -1 ? Buffer.alloc(0) : raw.subarray(split + 4);
  let body: Buffer = rest;
  let complete = false;
  if (split !== -1 && chunked) {
    const read = readChunks(rest);
    body = read.body;
    complete = read.complete;
  } else if (split !== -1 && length.length > 0) {
    const expected = Number(length[0]);
    body = rest.subarray(0, expected);
    complete = rest.length >= expected;
  } else if (split !== -1) {
    complete = !reset; // framed by the close itself
  }
  return {
    raw,
    statusLines,
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body.toString('utf8'),
    conflictingFraming: chunked && length.length > 0,
    complete,
    aborted: reset || !complete,
    header,
  };
}

function readChunks(rest: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n', offset);
    if (lineEnd === -1) return { body: Buffer.concat(parts), complete: false };
    const size = Number.parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return { body: Buffer.concat(parts), complete: false };
    if (size === 0) return { body: Buffer.concat(parts), complete: rest.indexOf('\r\n', lineEnd + 2) !== -1 };
    if (rest.length < lineEnd + 2 + size + 2) {
      parts.push(rest.subarray(lineEnd + 2, Math.min(rest.length, lineEnd + 2 + size)));
      return { body: Buffer.concat(parts), complete: false };
    }
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
