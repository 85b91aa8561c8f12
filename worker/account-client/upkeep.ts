import type { StoredResponse } from "../../durable-objects/types";
import { rpc } from "./rpc";
import type { SpendStub } from "./stub";

/** Attempts to keep a deferred call's response (or free its key) before giving up. */
const KEEP_ATTEMPTS = 3;
const KEEP_RETRY_MS = 500;

/**
 * Keeps a hold alive while its response streams: every third of `ttlMs` it asks the ledger to
 * push the hold's expiry `ttlMs` past now, so a long answer (a reasoning model, a long
 * generation) is never served after its hold expired. A call shorter than a third of its TTL
 * costs one timer and no ledger request. Returns the function that stops it.
 */
export function keepHoldAlive(ledger: SpendStub, fresh: () => SpendStub, holdId: string, ttlMs: number): () => void {
  const every = Math.max(1, Math.floor(ttlMs / 3));
  let stub = ledger;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const beat = async () => {
    try {
      const extended = await rpc.extendHold(stub, holdId, ttlMs);
      // The hold ended (captured, voided or expired): there is nothing left to keep alive.
      if (!extended.ok) return;
    } catch (err) {
      // The object may have reset: the next beat goes through a new stub, well before expiry.
      console.error("hold extension failed", holdId, String(err));
      stub = fresh();
    }
    if (!stopped) timer = setTimeout(beat, every);
  };
  timer = setTimeout(beat, every);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/**
 * Gives a deferred call's key its final state (the response to replay, or null to free it),
 * retried on a fresh stub: a key left open would answer 409 to every retry.
 */
export async function keepResponse(first: SpendStub, fresh: () => SpendStub, holdId: string, response: StoredResponse | null): Promise<void> {
  for (let attempt = 0; attempt < KEEP_ATTEMPTS; attempt++) {
    try {
      await rpc.keepResponse(attempt === 0 ? first : fresh(), holdId, response);
      return;
    } catch (err) {
      console.error("keeping a call's response failed", holdId, attempt, String(err));
      await scheduler.wait(KEEP_RETRY_MS * (attempt + 1));
    }
  }
  // Not lost for good: the key is freed once the hold ends, or a day after the call.
  console.error("keeping a call's response given up; the key is freed when its hold ends", holdId);
}
