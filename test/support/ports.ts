import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago. Only for programs that print the port they were given
 * rather than the one they got (the existing-app fixtures): anything that can listen on port 0 and say
 * where it listens must do that instead, as nothing stops another process from taking this port first.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
