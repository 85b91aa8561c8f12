/**
 * Top-ups from a payment processor's webhook (docs/ONBOARDING.md): the processor delivers an event
 * at least once, often several times at once, so the relay credits with the event's id as
 * Idempotency-Key. However many deliveries race, the account is credited once.
 */
import { testEnv as env } from "../durable-objects/helpers";
import { describe, expect, it } from "vitest";
import { api, balance, createAccount, OPERATOR, transfers } from "./helpers";

/** What a webhook relay sends for one `checkout.session.completed` event. */
function relay(accountId: string, eventId: string, amount: number) {
  return api(`/v1/accounts/${accountId}/credits`, {
    key: OPERATOR,
    body: { amount, currency: "USD", reference: `stripe:${eventId}` },
    headers: { "idempotency-key": eventId },
  });
}

describe("credits by a processor's event id", () => {
  it("the same event delivered 10 times at once credits once; every delivery gets the one transfer", async () => {
    const { id } = await createAccount();
    const eventId = "evt_1QxTollgateCheckout0001";
    const answers = await Promise.all(Array.from({ length: 10 }, () => relay(id, eventId, 25_000_000)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((a) => a.body.transfer.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") !== "true")).toHaveLength(1);
    expect((await balance(id)).available).toBe(25_000_000);
    const credits = (await transfers(id)).filter((t) => t.kind === "credit");
    expect(credits).toHaveLength(1);
    expect(credits[0]).toMatchObject({ amount: 25_000_000, reference: `stripe:${eventId}` });
  });

  it("a late redelivery still replays (credited once), and the settled ledger in D1 has one credit", async () => {
    const { id } = await createAccount();
    const eventId = "evt_1QxTollgateCheckout0002";
    const first = await relay(id, eventId, 1_000_000);
    expect(first.status).toBe(201);
    const late = await relay(id, eventId, 1_000_000);
    expect(late.headers.get("idempotent-replayed")).toBe("true");
    expect(late.body.transfer).toEqual(first.body.transfer);
    expect((await balance(id)).available).toBe(1_000_000);
    const deadline = Date.now() + 5_000;
    let rows = 0;
    while (Date.now() < deadline) {
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM transfers WHERE account_id = ? AND kind = 'credit'").bind(id).first<{ n: number }>();
      rows = Number(row?.n);
      if (rows > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toBe(1);
  });

  it("another event credits again; the same event id with another amount is refused and moves nothing", async () => {
    const { id } = await createAccount();
    expect((await relay(id, "evt_A0000000000000000000001", 500)).status).toBe(201);
    expect((await relay(id, "evt_A0000000000000000000002", 700)).status).toBe(201);
    const before = await balance(id);
    const res = await api(`/v1/accounts/${id}/credits`, {
      key: OPERATOR,
      body: { amount: 999, currency: "USD", reference: "stripe:evt_A0000000000000000000001" },
      headers: { "idempotency-key": "evt_A0000000000000000000001" },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("idempotency_mismatch");
    expect(await balance(id)).toEqual(before);
    expect(before.available).toBe(1_200);
  });
});
