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
