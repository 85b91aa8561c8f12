import type { DashContext } from "../../context";
import type { Message } from "../../layout";

/**
 * After a successful POST the handler redirects (303) with `?done=<code>`; the text comes from
 * this fixed table, so nothing a user typed travels in a URL.
 */
const NOTICES = {
  service_created: "The service is created. Install the SDK in your origin with the snippet below: agents can call it now.",
  service_updated: "The service is updated.",
  refunded: "The refund is made: the payer is credited and it is taken from your earnings.",
  dispute_accepted: "You accepted the dispute: the charge is refunded from your earnings.",
  dispute_contested: "You contested the dispute with your evidence; the operator decides.",
} as const;

export type ProviderNotice = keyof typeof NOTICES;

export function providerNotice(c: DashContext): Message {
  const done = c.req.query("done");
  return done && done in NOTICES ? { kind: "notice", text: NOTICES[done as ProviderNotice] } : null;
}

export function redirectDone(c: DashContext, path: string, done: ProviderNotice): Response {
  return c.redirect(`${path}${path.includes("?") ? "&" : "?"}done=${done}`, 303);
}
