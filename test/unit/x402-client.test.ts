/** The SDK's tollgate-prepaid scheme driven by the real @x402/fetch client against a scripted server. */
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { describe, expect, it } from "vitest";
import { decodeHeader, encodeHeader } from "../../core/x402/headers";
import { tollgatePrepaid } from "../../sdk/src/x402";

const requirement = (amount: string, asset = "USD") => ({
  scheme: "tollgate-prepaid",
  network: "tollgate:gw.example",
  asset,
  amount,
  payTo: "svc_1",
  maxTimeoutSeconds: 300,
  extra: { offer: "signed-offer", decimals: 6 },
});

function scriptedServer(req: ReturnType<typeof requirement>) {
  const seen: (unknown | null)[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const signature = request.headers.get("PAYMENT-SIGNATURE");
    seen.push(decodeHeader(signature));
    if (!signature) {
      const challenge = { x402Version: 2, error: "payment_required", resource: { url: request.url, description: "call" }, accepts: [req] };
      return new Response("{}", { status: 402, headers: { "PAYMENT-REQUIRED": encodeHeader(challenge), "content-type": "application/problem+json" } });
    }
    return new Response("paid", { status: 200 });
  };
  return { fetchImpl, seen };
}

describe("tollgate-prepaid scheme with @x402/fetch", () => {
  it("answers a challenge with the agent key and the offer as given", async () => {
    const server = scriptedServer(requirement("1500"));
    const client = new x402Client().register("tollgate:*", tollgatePrepaid({ key: "tg_agent_key" }));
    const res = await wrapFetchWithPayment(server.fetchImpl as typeof fetch, client)("https://gw.example/s/svc/x");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("paid");
    expect(server.seen).toHaveLength(2);
    const paid = server.seen[1] as { x402Version: number; accepted: unknown; payload: unknown };
    expect(paid.x402Version).toBe(2);
    expect(paid.payload).toEqual({ key: "tg_agent_key" });
    expect(paid.accepted).toMatchObject(requirement("1500"));
  });

  it("refuses an offer above the client's default $1 cap, and a currency it does not pay in", async () => {
    for (const req of [requirement("1000001"), requirement("1500", "EUR")]) {
      const server = scriptedServer(req);
      const client = new x402Client().register("tollgate:*", tollgatePrepaid({ key: "tg_agent_key" }));
      await expect(wrapFetchWithPayment(server.fetchImpl as typeof fetch, client)("https://gw.example/s/svc/x")).rejects.toThrow();
      expect(server.seen).toHaveLength(1);
    }
  });
});
