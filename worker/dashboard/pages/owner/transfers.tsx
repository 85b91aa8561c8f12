import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DashContext, ownerAccount, signedIn } from "../../context";
import { money, when } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { page } from "../../render";
import type { Session } from "../../session";
import { ApiErrorNote } from "../../api-errors";
import { noticeOf } from "../../notices";

const PATH = "/dashboard/owner/transfers";
export const DISPUTE_REASONS = ["unauthorized", "not_delivered", "defective", "duplicate"] as const;

type Usage = Record<string, number | boolean | undefined> | null;
type Transfer = {
  id: string;
  kind: string;
  amount: number;
  fee: number;
  currency: string;
  service_id: string | null;
  agent_key_id: string | null;
  mandate_id: string | null;
  tags: Record<string, string> | null;
  reference: string | null;
  usage: Usage;
  reason: string | null;
  created_at: string;
};

function usageText(u: Usage): string {
  if (!u) return "";
  const parts: string[] = [];
  if (u.input_tokens !== undefined) parts.push(`${u.input_tokens} in`);
  if (u.cached_input_tokens) parts.push(`${u.cached_input_tokens} cached`);
  if (u.output_tokens !== undefined) parts.push(`${u.output_tokens} out tokens`);
  if (u.units !== undefined) parts.push(`${u.units} units`);
  if (u.bytes !== undefined) parts.push(`${u.bytes} bytes`);
  if (u.ms !== undefined) parts.push(`${u.ms} ms`);
  if (u.estimated) parts.push("(estimated)");
  return parts.join(", ");
}

/** A charge's dispute form: a reason and a few words, posted to the disputes page. */
function DisputeForm({ t, session }: { t: Transfer; session: Session }) {
  return (
    <details>
      <summary>Dispute</summary>
      <PostForm session={session} action="/dashboard/owner/disputes" class="stack" label={`Dispute charge ${t.id}`}>
        <input type="hidden" name="transfer_id" value={t.id} />
        <label for={`reason-${t.id}`}>Reason</label>
        <select id={`reason-${t.id}`} name="reason">
          {DISPUTE_REASONS.map((r) => (
            <option value={r}>{r.replace("_", " ")}</option>
          ))}
        </select>
        <label for={`detail-${t.id}`}>What happened (optional)</label>
        <input id={`detail-${t.id}`} name="detail" maxlength={2000} />
        <button type="submit">Open dispute</button>
      </PostForm>
    </details>
  );
}

/** The account's journal, newest first: charges with their usage, credits, refunds. */
export async function transfersPage(c: DashContext, message: Message = null, status: ContentfulStatusCode = 200): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const cursor = c.req.query("cursor");
  const res = await api.get(`/v1/accounts/${id}/transfers?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  const rows: Transfer[] = res.ok ? res.body.data : [];
  return page(
    c,
    <Layout title="Transfers" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <section>
        {res.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Service</th>
                <th scope="col">Agent key</th>
                <th scope="col">Usage</th>
                <th scope="col">Tags</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colspan={8}>No transfers yet.</td>
                </tr>
              )}
              {rows.map((t) => (
                <tr data-transfer-id={t.id} data-kind={t.kind} data-amount={t.amount}>
                  <td>{when(t.created_at)}</td>
                  <td>
                    {t.kind}
                    {t.reason && (
                      <div>
                        <small>{t.reason}</small>
                      </div>
                    )}
                  </td>
                  <td>{t.service_id ?? ""}</td>
                  <td>{t.agent_key_id ?? ""}</td>
                  <td>{usageText(t.usage)}</td>
                  <td>
                    {Object.entries(t.tags ?? {})
                      .map(([k, v]) => `${k}=${v}`)
                      .join(", ")}
                  </td>
                  <td class="num">{money(t.kind === "capture" || t.kind === "tip" ? -t.amount : t.amount, t.currency)}</td>
                  <td>{t.kind === "capture" && <DisputeForm t={t} session={session} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={res} />
        )}
        {res.ok && res.body.next_cursor && (
          <p>
            <a href={`${PATH}?cursor=${encodeURIComponent(res.body.next_cursor)}`}>Older transfers →</a>
          </p>
        )}
      </section>
    </Layout>,
    status,
  );
}
