import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DashContext, signedIn } from "../../context";
import { field, money, when } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote, apiErrorText, apiStatus } from "../../api-errors";
import { noticeOf, redirectDone } from "../../notices";
import type { Dispute } from "../../../../durable-objects/dispute-types";

const PATH = "/dashboard/provider/disputes";

/** The disputes of the provider's charges (GET /v1/disputes); the open ones carry the answer forms. */
export async function disputesPage(c: DashContext, message: Message = null, status: ContentfulStatusCode = 200): Promise<Response> {
  const { session, api } = signedIn(c);
  const res = await api.get("/v1/disputes?limit=100");
  return page(
    c,
    <Layout title="Disputes" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <p>
        A payer disputed these charges. Accept to refund the charge from your earnings, or contest it with your evidence; the operator then decides. To refund a
        charge nobody disputed, use “Refund” in the charges list.
      </p>
      {!res.ok && <ApiErrorNote result={res} />}
      {res.ok && res.body.data.length === 0 && (
        <section>
          <p>No disputes.</p>
        </section>
      )}
      {res.ok &&
        (res.body.data as Dispute[]).map((d) => (
          <section data-dispute-id={d.id} data-status={d.status} aria-label={`Dispute ${d.id}`}>
            <h2>{`${d.reason} — ${money(d.amount, d.currency)} (${d.status})`}</h2>
            <p>{`Charge ${d.transfer_id}${d.service_id ? ` on ${d.service_id}` : ""}, account ${d.account_id}, opened ${when(d.created_at)}${d.resolved_at ? `, resolved ${when(d.resolved_at)}` : ""}.`}</p>
            {d.detail && <blockquote>{d.detail}</blockquote>}
            {d.compensated > 0 && <p>{`The payer was compensated ${money(d.compensated, d.currency)} at once.`}</p>}
            {d.evidence && (
              <p>
                Your evidence: <span data-testid="evidence">{d.evidence}</span>
              </p>
            )}
            {d.status === "open" && !d.evidence && (
              <div>
                <PostForm session={session} action={`${PATH}/${encodeURIComponent(d.id)}/accept`} class="inline" label={`Accept dispute ${d.id}`}>
                  <button type="submit">Accept and refund</button>
                </PostForm>
                <PostForm session={session} action={`${PATH}/${encodeURIComponent(d.id)}/contest`} class="stack" label={`Contest dispute ${d.id}`}>
                  <label for={`evidence-${d.id}`}>Evidence (why the charge stands)</label>
                  <textarea id={`evidence-${d.id}`} name="evidence" rows={3} required maxlength={10_000} />
                  <button type="submit">Contest</button>
                </PostForm>
              </div>
            )}
          </section>
        ))}
    </Layout>,
    status,
  );
}

/** POST /v1/disputes/{id}/respond: accept (refund) or contest with evidence; a refusal is shown on the page. */
export async function respondToDispute(c: DashContext): Promise<Response> {
  const { api } = signedIn(c);
  const id = c.req.param("dispute_id") ?? "";
  const accept = c.req.path.endsWith("/accept");
  const evidence = accept ? undefined : field(await c.req.parseBody(), "evidence");
  const res = await api.send(
    "POST",
    `/v1/disputes/${encodeURIComponent(id)}/respond`,
    accept ? { accept: true } : { accept: false, evidence: evidence || undefined },
  );
  if (!res.ok) return disputesPage(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res));
  return redirectDone(c, PATH, accept ? "dispute_accepted" : "dispute_contested");
}
