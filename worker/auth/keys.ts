import { randomToken, sha256Hex } from "../../core/ids";

/**
 * Secret keys carry the id of the object they belong to, so the Worker can route a call to the
 * right Durable Object (or D1 row) before checking the secret:
 *   provider  tg_prov_<20>_<32>   → prov_<20>
 *   owner     tg_owner_<20>_<32>  → acct_<20>
 *   agent     tg_agent_<20>_<32>  → acct_<20>
 * The 32-character secret carries about 165 bits; only its SHA-256 digest is stored.
 */
export type KeyKind = "prov" | "owner" | "agent";

const KEY_PATTERN = /^tg_(prov|owner|agent)_([0-9a-z]{20})_([0-9a-z]{32})$/;

export function issueKey(kind: KeyKind, objectId: string): string {
  return `tg_${kind}_${objectId.slice(objectId.indexOf("_") + 1)}_${randomToken(32)}`;
}

export type ParsedKey = { kind: KeyKind; objectId: string };

/** What a presented key claims to be; null when it is not shaped like any Tollgate key. */
export function parseKey(key: string): ParsedKey | null {
  const m = KEY_PATTERN.exec(key);
  if (!m) return null;
  const kind = m[1] as KeyKind;
  return { kind, objectId: `${kind === "prov" ? "prov" : "acct"}_${m[2]}` };
}

export const hashKey = sha256Hex;
