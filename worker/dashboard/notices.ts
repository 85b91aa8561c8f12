import type { DashContext } from "./context";
import type { Message } from "./layout";

/**
 * After a successful POST a page redirects (303) with `?done=<code>`; the text comes from this
 * fixed table, so nothing a user typed ever travels in a URL.
 */
const NOTICES = {
  // The owner's pages.
  key_revoked: "The agent key is revoked: its next call is refused.",
  limits_set: "The key's limits are set: they apply from its next call.",
  mandate_created: "The mandate is created.",
  mandate_revoked: "The mandate is revoked: calls under it are refused from now on.",
  dispute_opened: "The dispute is open.",
  renewal_stopped: "The pass will not renew; it runs to its end.",
  // The provider's pages.
  service_created: "The service is created. Install the SDK in your origin with the snippet below: agents can call it now.",
  service_updated: "The service is updated.",
  refunded: "The refund is made: the payer is credited and it is taken from your earnings.",
  dispute_accepted: "You accepted the dispute: the charge is refunded from your earnings.",
  dispute_contested: "You contested the dispute with your evidence; the operator decides.",
} as const;

export type Notice = keyof typeof NOTICES;

/** The notice a redirect asked for, if it names one in the table. */
export function noticeOf(c: DashContext): Message {
  const done = c.req.query("done");
  return done && done in NOTICES ? { kind: "notice", text: NOTICES[done as Notice] } : null;
}

export function redirectDone(c: DashContext, path: string, done: Notice): Response {
  return c.redirect(`${path}${path.includes("?") ? "&" : "?"}done=${done}`, 303);
}
