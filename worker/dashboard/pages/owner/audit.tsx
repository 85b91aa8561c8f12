import { type DashContext, ownerAccount, signedIn } from "../../context";
import { money, when } from "../../format";
import { Layout, type Message } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote, apiErrorText } from "../../api-errors";

const PATH = "/dashboard/owner/audit";

type AuditEvent = {
  seq: number;
  at: string;
  actor: string;
  event: string;
  agent_key_id: string | null;
  mandate_id: string | null;
  service_id: string | null;
  amount: number | null;
  outcome: string;
  reason: string | null;
  hash: string;
};

/**
 * The hash-chained audit trail, newest first. "Verify chain" is a GET (it changes nothing): the
 * server recomputes the chain D1 holds and compares it with the ledger's (the API's verify route).
 */
export async function auditPage(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const cursor = c.req.query("cursor");
  const verifying = c.req.query("verify") === "1";
  const [trail, balance, verification] = await Promise.all([
    api.get(`/v1/accounts/${id}/audit?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
    api.get(`/v1/accounts/${id}/balance`),
    verifying ? api.get(`/v1/accounts/${id}/audit/verify`) : Promise.resolve(null),
  ]);
  const currency: string = balance.ok ? balance.body.currency : "";
  let message: Message = null;
  if (verification && !verification.ok) message = { kind: "error", text: apiErrorText(verification) };
  else if (verification) {
    const v = verification.body;
    message = v.ok
      ? {
          kind: "notice",
          text: `Chain verified: ${v.checked} events hash and link correctly and match the ledger${v.not_yet_exported ? ` (${v.not_yet_exported} newer events not yet exported)` : ""}.`,
        }
      : {
          kind: "error",
          text: `Chain broken at event ${v.seq ?? "?"}: ${v.problem ?? "unknown"}${v.detail ? ` (${v.detail})` : ""}. ${v.checked} events verified before it.`,
        };
  }
  return page(
    c,
    <Layout title="Audit trail" session={session} path={PATH} message={message}>
      <form method="get" action={PATH}>
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify chain</button>
      </form>
      <section>
        {trail.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">
                  #
                </th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Event</th>
                <th scope="col">Outcome</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">About</th>
              </tr>
            </thead>
            <tbody>
              {trail.body.data.map((e: AuditEvent) => (
                <tr data-seq={e.seq}>
                  <td class="num">{e.seq}</td>
                  <td>{when(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.event}</td>
                  <td>
                    {e.outcome}
                    {e.reason && (
                      <div>
                        <small>{e.reason}</small>
                      </div>
                    )}
                  </td>
                  <td class="num">{e.amount === null ? "" : money(e.amount, currency)}</td>
                  <td>
                    <small>{[e.agent_key_id, e.mandate_id, e.service_id].filter(Boolean).join(" ")}</small>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={trail} />
        )}
        {trail.ok && trail.body.next_cursor && (
          <p>
            <a href={`${PATH}?cursor=${encodeURIComponent(trail.body.next_cursor)}`}>Older events →</a>
          </p>
        )}
      </section>
    </Layout>,
  );
}
