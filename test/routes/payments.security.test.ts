import { beforeAll, describe, expect, it } from "vitest";
import { signOffer, type OfferClaims } from "../../core/x402/offer";
import { TEST_KEY_A, TEST_KEY_UNPUBLISHED } from "../signing-keys";
import { GATEWAY, api, balance, call, createProvider, createService, expectProblem, flip, payer, settledBalance, transfers } from "./helpers";
import { mppChallenge, mppPayment, x402Offer, x402Payment, type Requirement } from "./payment-helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

/** A service at 2000 a call, a payer with 10,000, and a fresh offer for GET /echo. */
async function offered(path = "/echo") {
  const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
  const p = await payer(10_000);
  const { requirement } = x402Offer(await call(`/s/${svc.slug}${path}`));
  return { svc, p, requirement };
}

/** The retry was refused as not matching an offer, with a fresh one to pay, and nothing moved. */
async function refusedUnchanged(res: Response, accountId: string, detail: RegExp): Promise<void> {
  const problem = await expectProblem(res, 402, "payment_invalid");
  expect(problem.detail).toMatch(detail);
  expect(x402Offer(res).requirement.amount).toBe("2000");
  expect(await balance(accountId)).toEqual({ currency: "USD", posted: 10_000, pending: 0, available: 10_000 });
  expect((await transfers(accountId)).map((t) => t.kind)).toEqual(["credit"]);
}

async function signedBy(key: { kid: string; x: string; d: string }, claims: Omit<OfferClaims, "kid">): Promise<string> {
  const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: key.x, d: key.d }, { name: "Ed25519" }, false, ["sign"]);
  return signOffer({ ...claims, kid: key.kid }, privateKey);
}

describe("a paid retry must match an offer the gateway made (I12: a refused payment changes nothing)", () => {
  it("a lowered amount, another currency or another payee in the accepted terms is an altered offer", async () => {
    const { svc, p, requirement } = await offered();
    for (const altered of [{ amount: "1" }, { amount: "1999" }, { asset: "EUR" }, { payTo: "svc_other" }] as Partial<Requirement>[]) {
      const res = await call(`/s/${svc.slug}/echo`, { headers: x402Payment({ ...requirement, ...altered }, p.agentKey) });
      await refusedUnchanged(res, p.accountId, /differ from the signed offer/);
    }
  });

  it("a re-signed or tampered offer token is refused: only the gateway's published keys sign offers", async () => {
    const { svc, p, requirement } = await offered();
    const [body, sig] = requirement.extra.offer.split(".") as [string, string];
    const claims = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/")));
    const cheaper = await signedBy(TEST_KEY_UNPUBLISHED, { ...claims, amount: "1" });
    const flipped = `${body}.${sig.startsWith("A") ? "B" : "A"}${sig.slice(1)}`;
    const cases: [string, RegExp][] = [
      [cheaper, /unknown key/],
      [flipped, /signature is not valid/],
      ["not-an-offer", /malformed/],
    ];
    for (const [offer, why] of cases) {
      const accepted = { ...requirement, amount: offer === cheaper ? "1" : requirement.amount, extra: { ...requirement.extra, offer } };
      await refusedUnchanged(await call(`/s/${svc.slug}/echo`, { headers: x402Payment(accepted, p.agentKey) }), p.accountId, why);
    }
  });

  it("an expired offer is refused, even when the gateway signed it", async () => {
    const { svc, p, requirement } = await offered();
    const expired = await signedBy(TEST_KEY_A, {
      resource: `GET ${GATEWAY}/s/${svc.slug}/echo`,
      amount: "2000",
      currency: "USD",
      service: svc.id,
      exp: Math.floor(Date.now() / 1000) - 1,
      nonce: "n-expired",
    });
    const accepted = { ...requirement, extra: { ...requirement.extra, offer: expired } };
    await refusedUnchanged(await call(`/s/${svc.slug}/echo`, { headers: x402Payment(accepted, p.agentKey) }), p.accountId, /expired/);
  });

  it("an offer pays only for its own resource: another path, method, query or service is refused", async () => {
    const { svc, p, requirement } = await offered("/echo/a");
    const other = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const elsewhere = [
      call(`/s/${svc.slug}/echo/b`, { headers: x402Payment(requirement, p.agentKey) }),
      call(`/s/${svc.slug}/echo/a?x=1`, { headers: x402Payment(requirement, p.agentKey) }),
      call(`/s/${svc.slug}/echo/a`, { method: "DELETE", headers: x402Payment(requirement, p.agentKey) }),
      call(`/s/${other.slug}/echo/a`, { headers: x402Payment({ ...requirement }, p.agentKey) }),
    ];
    for (const res of await Promise.all(elsewhere)) await refusedUnchanged(res, p.accountId, /another resource/);
  });

  it("a price raised since the offer needs a new offer; a price lowered is charged at the new price", async () => {
    const { svc, p, requirement } = await offered();
    const raised = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { prices: [{ per_call: 2500 }] } });
    expect(raised.status).toBe(200);
    const res = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.agentKey) });
    const problem = await expectProblem(res, 402, "payment_invalid");
    expect(problem.detail).toMatch(/price changed/);
    expect(x402Offer(res).requirement.amount).toBe("2500");
    expect(await balance(p.accountId)).toMatchObject({ posted: 10_000, available: 10_000 });

    const fresh = x402Offer(await call(`/s/${svc.slug}/echo`)).requirement;
    expect((await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { prices: [{ per_call: 700 }] } })).status).toBe(200);
    const paid = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(fresh, p.agentKey) });
    expect(paid.status).toBe(200);
    expect(paid.headers.get("tollgate-charge")).toBe("700");
    await paid.body?.cancel();
  });

  it("a payment whose key is not a live agent key is refused like a keyed call (401 invalid_key)", async () => {
    const { svc, p, requirement } = await offered();
    await expectProblem(await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.ownerKey) }), 401, "invalid_key");
    await expectProblem(await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, flip(p.agentKey)) }), 401, "invalid_key");
    expect(await balance(p.accountId)).toMatchObject({ posted: 10_000, available: 10_000 });
  });

  it("malformed payment headers are 402 payment_invalid with a fresh offer, never a charge", async () => {
    const { svc, p } = await offered();
    const malformed: Record<string, string>[] = [
      { "payment-signature": "%%%" },
      { "payment-signature": btoa(JSON.stringify({ x402Version: 1, payload: { key: p.agentKey } })) },
      { "payment-signature": btoa(JSON.stringify({ x402Version: 2, accepted: { scheme: "exact", network: "eip155:8453" }, payload: { key: p.agentKey } })) },
      { authorization: "Payment not*base64url" },
      { authorization: `Payment ${btoa(JSON.stringify({ challenge: { method: "stripe" }, payload: { key: p.agentKey } })).replace(/=+$/, "")}` },
    ];
    for (const headers of malformed) {
      const res = await call(`/s/${svc.slug}/echo`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(402);
      await refusedUnchanged(res, p.accountId, /PAYMENT-SIGNATURE|Payment|malformed/);
    }
  });
});

describe("an offer pays once (its nonce is the call's idempotency key)", () => {
  it("the same payment sent again is 409 payment_replayed naming the call it paid, and is not charged", async () => {
    const { svc, p, requirement } = await offered();
    const first = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.agentKey) });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    await settledBalance(p.accountId);
    const again = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.agentKey) });
    const problem = await expectProblem(again, 409, "payment_replayed");
    expect(problem.request_id).toBe(first.headers.get("tollgate-request-id"));
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 8000, available: 8000 });
  });

  it("the same MPP credential raced 20 times pays for exactly one call", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(100_000);
    const { params } = mppChallenge(await call(`/s/${svc.slug}/echo`));
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(`/s/${svc.slug}/echo`, { headers: mppPayment(params, p.agentKey) })));
    const statuses = answers.map((r) => r.status).sort();
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 98_000, available: 98_000 });
    expect((await transfers(p.accountId)).filter((t) => t.kind === "capture")).toHaveLength(1);
  });

  it("distinct offers each pay for their own call: 20 raced payments of 20 offers make 20 charges", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(100_000);
    const offers = await Promise.all(Array.from({ length: 20 }, async () => x402Offer(await call(`/s/${svc.slug}/echo`)).requirement));
    const answers = await Promise.all(offers.map((o) => call(`/s/${svc.slug}/echo`, { headers: x402Payment(o, p.agentKey) })));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 60_000, available: 60_000 });
  });
});
