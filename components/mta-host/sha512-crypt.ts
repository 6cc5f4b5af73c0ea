import { createHash } from "node:crypto";

/**
 * SHA512-CRYPT (`$6$`, Ulrich Drepper's "Unix crypt using SHA-256 and
 * SHA-512", the scheme of glibc's crypt(3)), computed in Node so the
 * deployment can hash a generated password without a C library. Dovecot
 * verifies it through crypt(3) (`{SHA512-CRYPT}` scheme). Pure; checked
 * against `openssl passwd -6` in test/mta-host.test.ts.
 */

/** crypt(3)'s base-64 alphabet, which is not RFC 4648's. */
export const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** glibc's default and the value a `$6$salt$` string without `rounds=` means. */
export const DEFAULT_ROUNDS = 5000;

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `length` bytes of `block` repeated. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

function encode(digest: Buffer): string {
  let out = "";
  const put = (w: number, n: number) => {
    for (let i = 0; i < n; i++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (const [a, b, c] of TRIPLES) put((digest[a] << 16) | (digest[b] << 8) | digest[c], 4);
  put(digest[63], 2);
  return out;
}

/** The spec's output table: the 21 byte triples, then byte 63 alone. */
const TRIPLES: [number, number, number][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

/**
 * `$6$<salt>$<hash>` (or `$6$rounds=N$<salt>$<hash>` when rounds is not the
 * default). The salt is at most 16 characters of the crypt alphabet.
 */
export function sha512Crypt(password: string, salt: string, rounds = DEFAULT_ROUNDS): string {
  if (!/^[./0-9A-Za-z]{1,16}$/.test(salt)) throw new Error(`sha512Crypt: salt "${salt}" must be 1 to 16 characters of ${CRYPT_ALPHABET}`);
  if (!Number.isInteger(rounds) || rounds < 1000 || rounds > 999_999_999) throw new Error(`sha512Crypt: rounds ${rounds} must be an integer from 1000 to 999999999`);
  const p = Buffer.from(password, "utf8");
  const s = Buffer.from(salt, "ascii");
  const b = sha512(p, s, p);
  const aParts = [p, s, repeatTo(b, p.length)];
  for (let n = p.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : p);
  let c = sha512(...aParts);
  const pBytes = repeatTo(sha512(...Array<Buffer>(p.length).fill(p)), p.length);
  const sBytes = repeatTo(sha512(...Array<Buffer>(16 + c[0]).fill(s)), s.length);
  for (let i = 0; i < rounds; i++) {
    const parts: Buffer[] = [i & 1 ? pBytes : c];
    if (i % 3 !== 0) parts.push(sBytes);
    if (i % 7 !== 0) parts.push(pBytes);
    parts.push(i & 1 ? c : pBytes);
    c = sha512(...parts);
  }
  return `$6$${rounds === DEFAULT_ROUNDS ? "" : `rounds=${rounds}$`}${salt}$${encode(c)}`;
}

/** A crypt salt of 16 characters from random bytes (such as random.RandomBytes' base64), 6 bits per byte. */
export function cryptSaltFromBytes(bytes: Buffer): string {
  if (bytes.length < 16) throw new Error(`cryptSaltFromBytes: ${bytes.length} bytes given, 16 needed`);
  let out = "";
  for (let i = 0; i < 16; i++) out += CRYPT_ALPHABET[bytes[i] & 0x3f];
  return out;
}
