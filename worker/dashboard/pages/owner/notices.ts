import type { DashContext } from "../../context";
import type { Message } from "../../layout";

/**
 * After a successful POST the handler redirects (303) to the page with `?done=<code>`; the text
 * comes from this fixed table, so nothing a user typed ever travels in a URL.
 */
const NOTICES = {
  key_revoked: "The agent key is revoked: its next call is refused.",
  limits_set: "The key's limits are set: they apply from its next call.",
  mandate_created: "The mandate is created.",
  mandate_revoked: "The mandate is revoked: calls under it are refused from now on.",
  dispute_opened: "The dispute is open.",
  renewal_stopped: "The pass will not renew; it runs to its end.",
} as const;

export type Notice = keyof typeof NOTICES;

export function noticeOf(c: DashContext): Message {
  const done = c.req.query("done");
  return done && done in NOTICES ? { kind: "notice", text: NOTICES[done as Notice] } : null;
}

export function redirectDone(c: DashContext, path: string, done: Notice): Response {
  return c.redirect(`${path}?done=${done}`, 303);
}
