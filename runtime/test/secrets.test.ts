import { execFileSync } from 'node:child_process';
import { createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SessionConfigError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { estimatedSecretBits, KEY_DERIVATION, MIN_SECRET_BITS, Sealer } from '../src/seal.js';
import { SECRET } from './support/harness.js';

/** The `<key id>` of a sealed value `v1.<key id>.<body>`. */
const keyIdOf = (sealed: string) => sealed.split('.')[1] as string;

function configError(make: () => unknown): SessionConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError);
    return error as SessionConfigError;
  }
  throw new Error('expected a SessionConfigError');
}

describe('weak secrets are refused when the manager is made', () => {
  it.each([
    ['32 identical characters', 'x'.repeat(32)],
    ['`password` four times', 'password'.repeat(4)],
    ['a 16-character text twice', '0123456789abcdef'.repeat(2)],
    ['two characters in turn', 'ab'.repeat(20)],
    ['a long run with a short tail', `${'A'.repeat(60)}Zq9`],
  ])('%s', (_, secret) => {
    const error = configError(() => SessionManager.cookies(secret));
    expect(error.message).toMatch(/too little variety/);
    // It says how to make a good one, both ways.
    expect(error.message).toContain('openssl rand -base64 32');
    expect(error.message).toContain("randomBytes(32).toString('base64url')");
  });

  it('anywhere in the rotation list, naming its place', () => {
    expect(configError(() => SessionManager.cookies([SECRET, 'password'.repeat(4)])).message).toContain('#2');
  });

  it('random secrets of 32 characters pass the estimate, whatever tool made them', () => {
    for (let i = 0; i < 200; i++) {
      for (const secret of [
        randomBytes(16).toString('hex'),
        randomBytes(24).toString('base64url'),
        randomBytes(32).toString('base64'),
      ]) {
        expect({ secret, ok: estimatedSecretBits(secret) >= MIN_SECRET_BITS }).toEqual({ secret, ok: true });
      }
    }
    expect(() => SessionManager.cookies(randomBytes(32).toString('base64'))).not.toThrow();
  });
});

describe('keys are stretched by scrypt once per secret', () => {
  const secret = `${SECRET}-stretched`;

  it('the AES key and the key id come from the scrypt output, never from a fast hash of the secret', () => {
    const sealed = new Sealer(secret, 'emt_session').seal('{"n":1}');
    const { salt, N, r, p, maxmem } = KEY_DERIVATION;
    const stretched = scryptSync(secret, salt, 32, { N, r, p, maxmem });
    const expected = Buffer.from(hkdfSync('sha256', stretched, salt, 'key id', 6)).toString('base64url');
    expect(keyIdOf(sealed)).toBe(expected);
    // The AES-256-GCM key too: the cookie opens with HKDF(scrypt(secret)) and nothing cheaper.
    const key = Buffer.from(hkdfSync('sha256', stretched, salt, 'aes-256-gcm', 32));
    const body = Buffer.from(sealed.split('.')[2] as string, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(`v1.${expected}.emt_session`));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plaintext = decipher.update(body.subarray(12, body.length - 16), undefined, 'utf8') + decipher.final('utf8');
    expect(plaintext).toBe('{"n":1}');
    // The derivation before this change: HKDF straight from the secret, a guess checked in nanoseconds.
    const fast = Buffer.from(hkdfSync('sha256', secret, salt, 'key id', 6)).toString('base64url');
    expect(keyIdOf(sealed)).not.toBe(fast);
    // Deliberately slow and memory-hard: 2^15 blocks of 128 * r bytes (32 MB).
    expect(128 * N * r).toBeGreaterThanOrEqual(32 * 1024 * 1024);
  });

  it('a cookie sealed in another process (another server with the same secret) opens here', () => {
    const seal = fileURLToPath(new URL('../src/seal.ts', import.meta.url));
    const script = `import('${seal}').then(({ Sealer }) => process.stdout.write(new Sealer(${JSON.stringify(secret)}, 'emt_session').seal('hello')))`;
    const sealed = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(new Sealer(secret, 'emt_session').open(sealed)?.plaintext).toBe('hello');
  });
});
