import { type DashContext, ownerAccount, signedIn } from "../../context";
import { field, money, when } from "../../format";
import { Layout, type Message } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote, apiErrorText, apiStatus } from "../../api-errors";
import { noticeOf, redirectDone } from "../../notices";
import { transfersPage } from "./transfers";
import type { Dispute } from "../../../../durable-objects/dispute-types";

const PATH = "/dashboard/owner/disputes";

export async function disputesPage(c: DashContext, message: Message = null): Promise<Response> {
  const { session, api } = signedIn(c);
  const res = await api.get(`/v1/accounts/${ownerAccount(session)}/disputes?limit=100`);
  return page(
    c,
    <Layout title="Disputes" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <p>
        To dispute a charge, open <a href="/dashboard/owner/transfers">Transfers</a> and use “Dispute” on it.
      </p>
      <section>
        {res.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Opened</th>
                <th scope="col">Charge</th>
                <th scope="col">Reason</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Claimed
                </th>
                <th scope="col" class="num">
                  Compensated
                </th>
                <th scope="col">Provider's evidence</th>
              </tr>
            </thead>
            <tbody>
              {res.body.data.length === 0 && (
                <tr>
                  <td colspan={7}>No disputes.</td>
                </tr>
              )}
              {res.body.data.map((d: Dispute) => (
                <tr data-dispute-id={d.id} data-transfer-id={d.transfer_id}>
                  <td>{when(d.created_at)}</td>
                  <td>
                    {d.transfer_id}
                    {d.service_id && (
                      <div>
                        <small>{d.service_id}</small>
                      </div>
                    )}
                  </td>
                  <td>
                    {d.reason}
                    {d.detail && <div>{d.detail}</div>}
                  </td>
                  <td>
                    {d.status}
                    {d.resolved_at && <div>{when(d.resolved_at)}</div>}
                  </td>
                  <td class="num">{money(d.amount, d.currency)}</td>
                  <td class="num">{money(d.compensated, d.currency)}</td>
                  <td>{d.evidence ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={res} />
        )}
      </section>
    </Layout>,
  );
}

/** Opens a dispute on a charge (the form on the transfers page); a refusal is shown there. */
export async function openDispute(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const body = await c.req.parseBody();
  const detail = field(body, "detail");
  const res = await api.send("POST", `/v1/accounts/${ownerAccount(session)}/disputes`, {
    transfer_id: field(body, "transfer_id"),
    reason: field(body, "reason"),
    ...(detail ? { detail } : {}),
  });
  if (!res.ok) return transfersPage(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res));
  return redirectDone(c, PATH, "dispute_opened");
}
