/** Setup for the refund route tests: a provider's service with a fee, a payer, and its charges in D1. */
import { createProvider, payer, type Payer, type Provider } from "./helpers";
import { DB, exportNow, paidCall, serviceWithFee } from "./ledger-helpers";

export type RefundWorld = { prov: Provider; svc: { id: string; slug: string }; p: Payer };

/** A provider with a service of `perCall` at `feeBps`, and a payer with 1 000 000. */
export async function refundWorld(perCall = 1_000, feeBps = 1_000): Promise<RefundWorld> {
  const prov = await createProvider();
  const svc = await serviceWithFee(prov.id, perCall, feeBps);
  return { prov, svc, p: await payer(1_000_000) };
}

/** One paid call, exported to D1; returns the capture's transfer id. */
export async function exportedCharge(w: RefundWorld): Promise<string> {
  const requestId = await paidCall(w.svc.slug, w.p.agentKey);
  await exportNow(w.p.accountId);
  const row = await DB.prepare("SELECT id FROM transfers WHERE request_id = ? AND kind = 'capture'").bind(requestId).first<{ id: string }>();
  if (!row) throw new Error(`no capture in D1 for ${requestId}`);
  return row.id;
}
