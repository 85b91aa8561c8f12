import { type DashContext, signedIn } from "../../context";
import { field, parseAmount } from "../../format";
import { apiErrorText, apiStatus } from "../../api-errors";
import { redirectDone } from "../../notices";
import { providerOverview } from "./overview";

/** Where a refund form may send the browser back: the provider's own pages only. */
const BACK = /^\/dashboard\/provider(?:\/services\/svc_[0-9a-z]+)?$/;

/** POST /v1/refunds on one of the provider's charges: the amount typed (blank: all that is left). */
export async function refundCharge(c: DashContext): Promise<Response> {
  const { api } = signedIn(c);
  const body = await c.req.parseBody();
  const amount = parseAmount(body.amount);
  if (amount === undefined)
    return providerOverview(c, { kind: "error", text: "Amount: type a decimal amount such as 0.25, or leave it blank to refund all." }, 400);
  const reason = field(body, "reason");
  const res = await api.send("POST", "/v1/refunds", {
    transfer_id: field(body, "transfer_id"),
    ...(amount !== null ? { amount } : {}),
    ...(reason ? { reason } : {}),
  });
  if (!res.ok) return providerOverview(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res));
  const back = field(body, "back");
  return redirectDone(c, BACK.test(back) ? back : "/dashboard/provider", "refunded");
}
