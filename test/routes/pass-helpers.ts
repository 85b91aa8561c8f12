/** Shared steps of the pass route tests: a service with plans, a funded payer, purchases and calls. */
import { expect } from "vitest";
import { api, call, providerServicePayer, type Payer, type Provider, type ServiceRef } from "./helpers";

export type PassWorld = { prov: Provider; svc: ServiceRef; p: Payer; plans: Record<string, string> };

/** A service at 1000 a call, with the given plans (by name), and a payer with `funds`. */
export async function passWorld(plans: Record<string, unknown>[], funds = 1_000_000): Promise<PassWorld> {
  const { prov, svc, p } = await providerServicePayer({ prices: [{ per_call: 1_000 }] }, funds);
  const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { plans } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { prov, svc, p, plans: Object.fromEntries(r.body.plans.map((pl: { name: string; id: string }) => [pl.name, pl.id])) };
}

export const buyPass = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => api("/v1/passes", { key, body, headers });

/** One call through the proxy: its status and the charge and pass headers. */
export async function paidOrPass(w: PassWorld, path = "/echo") {
  const res = await call(`/s/${w.svc.slug}${path}`, { key: w.p.agentKey });
  await res.body?.cancel();
  return { status: res.status, charge: res.headers.get("tollgate-charge"), pass: res.headers.get("tollgate-pass") };
}
