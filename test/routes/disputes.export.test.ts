import { beforeAll, describe, expect, it } from "vitest";
import { exportPage } from "../../durable-objects/export-page";
import { OPERATOR, api } from "./helpers";
import { opened, resolve, respond } from "./dispute-helpers";
import { DB, exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

// Disputes reach D1 twice over: at once as each step answers, and by the alarm. Both may repeat
// or fail; D1 must end with each dispute as the ledger holds it, never an older version.

let w: RefundWorld;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000);
});

const inD1 = (id: string) => DB.prepare("SELECT status, version, evidence FROM disputes WHERE id = ?").bind(id).first<{ status: string; version: number }>();

describe("disputes in D1", () => {
  it("a stale resend of an older version never overwrites a newer one", async () => {
    const d = await opened(w, await exportedCharge(w), "defective");
    const first = await DB.prepare("SELECT * FROM disputes WHERE id = ?").bind(d.id).first<Record<string, unknown>>();
    await resolve(d.id, "provider");
    expect(await inD1(d.id)).toMatchObject({ status: "won_by_provider" });
    // The first version again, as an export retried after the object died would send it.
    const columns = ["id", "transfer_id", "provider_id", "service_id", "reason", "detail", "amount", "compensated", "currency", "status"];
    const rest = ["evidence", "contested_at", "created_at", "resolved_at", "version"];
    const row = [...columns, ...rest].map((c) => first?.[c] ?? null);
    await exportPage(DB, w.p.accountId, { transfers: "[]", audit: "[]", disputes: JSON.stringify([row]) });
    expect(await inD1(d.id)).toMatchObject({ status: "won_by_provider" });
  });

  it("D1 failing as the dispute opens: the ledger still decides, and the alarm brings D1 level", async () => {
    const charge = await exportedCharge(w);
    const trigger = `outage_${w.p.accountId}`;
    await DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON disputes WHEN NEW.account_id = '${w.p.accountId}' BEGIN SELECT RAISE(ABORT, 'simulated D1 outage'); END`,
    ).run();
    let d: any;
    try {
      d = await opened(w, charge, "unauthorized");
      expect(d.compensated).toBe(1_000);
      expect(await inD1(d.id)).toBeNull();
      // The provider cannot find it yet: D1 is where it looks.
      expect((await respond(d.id, w.prov.key, { accept: true })).status).toBe(404);
    } finally {
      await DB.prepare(`DROP TRIGGER ${trigger}`).run();
    }
    await exportNow(w.p.accountId);
    expect(await inD1(d.id)).toMatchObject({ status: "open" });
    expect((await respond(d.id, w.prov.key, { accept: true })).body).toMatchObject({ status: "accepted" });
    await exportNow(w.p.accountId);
    const r = await api(`/v1/reconciliation?account_id=${w.p.accountId}`, { key: OPERATOR });
    expect(r.body).toMatchObject({ ok: true, discrepancies: [] });
  });
});
