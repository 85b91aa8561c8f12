import type { CaptureDetail } from "../../durable-objects/types";
import type { LedgerStub } from "../ledger/stub";

export type Settled = { ok: true; amount: number; available: number } | { ok: false };

/**
 * Captures a hold, retrying once with a fresh stub when the first attempt threw (the object may
 * have reset). Capture is safe to repeat: a retry that finds the hold already captured means the
 * first attempt landed, and it reports that capture rather than charging again.
 */
export async function captureWithRetry(
  first: LedgerStub,
  fresh: () => LedgerStub,
  holdId: string,
  amount: number,
  detail: CaptureDetail,
): Promise<Settled> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const ledger = attempt === 0 ? first : fresh();
    try {
      const result = await ledger.capture(holdId, amount, detail);
      if (result.ok) return { ok: true, amount, available: result.balance.available };
      if (result.code === "hold_not_pending" && result.state === "captured") {
        const [hold, balance] = await Promise.all([ledger.hold(holdId), ledger.balance()]);
        return { ok: true, amount: hold?.captured ?? amount, available: balance?.available ?? 0 };
      }
      console.error("capture refused", holdId, result.code);
      return { ok: false };
    } catch (err) {
      console.error("capture failed", holdId, attempt, String(err));
    }
  }
  return { ok: false };
}
