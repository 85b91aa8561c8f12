import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DashContext, ownerAccount, signedIn } from "../../context";
import { money, when } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { notFoundPage, page } from "../../render";
import { ApiErrorNote, apiErrorText, apiStatus } from "../../api-errors";
import { noticeOf, redirectDone } from "../../notices";

const PATH = "/dashboard/owner/passes";
const PASS_ID = /^pass_[0-9a-z]{20}$/;

type Pass = {
  id: string;
  plan_name: string;
  service_id: string;
  price: number;
  status: string;
  starts_at: string;
  expires_at: string | null;
  calls: number | null;
  calls_left: number | null;
  auto_renew: boolean;
  period: number;
  lapse_reason: string | null;
  agent_key_id: string | null;
};

/** The account's passes (bought by its agents or by the owner), with a way to stop a renewal. */
export async function passesPage(c: DashContext, message: Message = null, status: ContentfulStatusCode = 200): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const [res, balance] = await Promise.all([api.get(`/v1/accounts/${id}/passes?limit=100`), api.get(`/v1/accounts/${id}/balance`)]);
  const currency: string = balance.ok ? balance.body.currency : "";
  return page(
    c,
    <Layout title="Passes" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <section>
        {res.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col">Service</th>
                <th scope="col">Status</th>
                <th scope="col">Period</th>
                <th scope="col" class="num">
                  Calls left
                </th>
                <th scope="col" class="num">
                  Price
                </th>
                <th scope="col">Renewal</th>
              </tr>
            </thead>
            <tbody>
              {res.body.data.length === 0 && (
                <tr>
                  <td colspan={7}>No passes. Agents buy them through the API (POST /v1/passes).</td>
                </tr>
              )}
              {res.body.data.map((p: Pass) => (
                <tr data-pass-id={p.id}>
                  <td>
                    {p.plan_name}
                    <div>
                      <small>
                        {p.id}
                        {p.agent_key_id ? `, bought by ${p.agent_key_id}` : ", bought by the owner"}
                      </small>
                    </div>
                  </td>
                  <td>{p.service_id}</td>
                  <td>
                    {p.status}
                    {p.lapse_reason && <div>{p.lapse_reason}</div>}
                  </td>
                  <td>
                    #{p.period}: {when(p.starts_at)} → {p.expires_at ? when(p.expires_at) : "no end"}
                  </td>
                  <td class="num">{p.calls === null ? "unlimited" : `${p.calls_left} of ${p.calls}`}</td>
                  <td class="num">{money(p.price, currency)}</td>
                  <td>
                    {p.auto_renew && p.status === "active" ? (
                      <PostForm session={session} action={`${PATH}/${p.id}/stop-renewal`} class="inline" label={`Stop renewing ${p.id}`}>
                        <button type="submit">Stop renewal</button>
                      </PostForm>
                    ) : p.auto_renew ? (
                      "renews"
                    ) : (
                      "does not renew"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={res} />
        )}
      </section>
    </Layout>,
    status,
  );
}

export async function stopRenewal(c: DashContext): Promise<Response> {
  const passId = c.req.param("pass_id") ?? "";
  if (!PASS_ID.test(passId)) return notFoundPage(c);
  const { api } = signedIn(c);
  // The API finds the pass in the owner's own account (the principal's), so no other account's pass is reachable.
  const res = await api.send("DELETE", `/v1/passes/${passId}`);
  if (!res.ok) return passesPage(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res));
  return redirectDone(c, PATH, "renewal_stopped");
}
