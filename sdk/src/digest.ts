import { isInnerList, parseDictionary } from "./structured.js";

const ALGORITHMS: Record<string, string> = { "sha-256": "SHA-256", "sha-512": "SHA-512" };

/**
 * Whether `body` matches an RFC 9530 `Content-Digest` value. Every digest in it that this code
 * knows must match, and at least one must be known: an unknown-only header proves nothing.
 */
export async function digestMatches(header: string, body: Uint8Array<ArrayBuffer>): Promise<boolean> {
  let dict: ReturnType<typeof parseDictionary>;
  try {
    dict = parseDictionary(header);
  } catch {
    return false;
  }
  let checked = 0;
  for (const [name, member] of dict) {
    const algorithm = ALGORITHMS[name];
    if (!algorithm) continue;
    if (isInnerList(member) || !(member.value instanceof Uint8Array)) return false;
    const actual = new Uint8Array(await crypto.subtle.digest(algorithm, body));
    if (!equalBytes(actual, member.value)) return false;
    checked++;
  }
  return checked > 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
