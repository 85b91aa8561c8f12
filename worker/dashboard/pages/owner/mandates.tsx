import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiResult } from "../../api";
import { type DashContext, ownerAccount, signedIn } from "../../context";
import { field, money, parseAmount, when } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { notFoundPage, page } from "../../render";
import { ApiErrorNote, apiErrorText, apiStatus } from "../../api-errors";
import { noticeOf, redirectDone } from "../../notices";

const PATH = "/dashboard/owner/mandates";
const MANDATE_ID = /^mnd_[0-9a-z]{20}$/;
const FIELDS = ["intent", "max_total", "max_per_call", "max_per_day", "valid_until", "services", "tags"] as const;

type Mandate = {
  id: string;
  intent: string;
  max_total: number;
  max_per_call: number;
  max_per_day: number | null;
  valid_from: string;
  valid_until: string;
  services: string[] | null;
  tags: Record<string, string> | null;
  revoked_at: string | null;
  spent: number;
  pending: number;
  max_tip: number | null;
};

type Decisions = { accepted: number; refused: number; reasons: Map<string, number> };

/**
 * What each mandate allowed and refused: the ledger records every hold it decided in the audit
 * trail (event `hold`, outcome accepted or refused, with the refusal's reason). The most recent
 * 200 events are counted; the audit page has the whole trail.
 */
function decisionsByMandate(audit: ApiResult[]): Map<string, Decisions> {
  const out = new Map<string, Decisions>();
  for (const res of audit) {
    if (!res.ok) continue;
    for (const e of res.body.data as { event: string; mandate_id: string | null; outcome: string; reason: string | null }[]) {
      if (e.event !== "hold" || !e.mandate_id) continue;
      const d = out.get(e.mandate_id) ?? { accepted: 0, refused: 0, reasons: new Map() };
      if (e.outcome === "accepted") d.accepted++;
      else if (e.outcome === "refused") {
        d.refused++;
        d.reasons.set(e.reason ?? "unknown", (d.reasons.get(e.reason ?? "unknown") ?? 0) + 1);
      }
      out.set(e.mandate_id, d);
    }
  }
  return out;
}

/** `typed`: what the refused form held, so it comes back filled in. */
export async function mandatesPage(
  c: DashContext,
  message: Message = null,
  status: ContentfulStatusCode = 200,
  typed: Record<string, string> = {},
): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const [mandates, balance, audit1] = await Promise.all([
    api.get(`/v1/accounts/${id}/mandates?limit=100`),
    api.get(`/v1/accounts/${id}/balance`),
    api.get(`/v1/accounts/${id}/audit?limit=100`),
  ]);
  const audit2 =
    audit1.ok && audit1.body.next_cursor ? await api.get(`/v1/accounts/${id}/audit?limit=100&cursor=${encodeURIComponent(audit1.body.next_cursor)}`) : null;
  const decisions = decisionsByMandate(audit2 ? [audit1, audit2] : [audit1]);
  const currency: string = balance.ok ? balance.body.currency : "";
  const m$ = (v: number | null) => (v === null ? "—" : money(v, currency));
  return page(
    c,
    <Layout title="Mandates" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <section aria-labelledby="list-h">
        <h2 id="list-h">Mandates</h2>
        {mandates.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Intent</th>
                <th scope="col">Limits</th>
                <th scope="col">Valid</th>
                <th scope="col" class="num">
                  Spent
                </th>
                <th scope="col">Allowed / refused (recent)</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {mandates.body.data.length === 0 && (
                <tr>
                  <td colspan={6}>No mandates yet.</td>
                </tr>
              )}
              {mandates.body.data.map((m: Mandate) => {
                const d = decisions.get(m.id);
                return (
                  <tr data-mandate-id={m.id}>
                    <td>
                      {m.intent}
                      <br />
                      <small>{m.id}</small>
                    </td>
                    <td>
                      total {m$(m.max_total)}, per call {m$(m.max_per_call)}
                      {m.max_per_day !== null && `, per day ${m$(m.max_per_day)}`}
                      {m.services && <div>services: {m.services.join(", ")}</div>}
                      {m.tags && (
                        <div>
                          tags:{" "}
                          {Object.entries(m.tags)
                            .map(([k, v]) => `${k}=${v}`)
                            .join(", ")}
                        </div>
                      )}
                    </td>
                    <td>
                      {when(m.valid_from)} → {when(m.valid_until)}
                      {m.revoked_at && <div>revoked {when(m.revoked_at)}</div>}
                    </td>
                    <td class="num">
                      {m$(m.spent)}
                      {m.pending > 0 && <div>+ {m$(m.pending)} held</div>}
                    </td>
                    <td>
                      {d ? `${d.accepted} allowed, ${d.refused} refused` : "no calls yet"}
                      {d && d.reasons.size > 0 && (
                        <div>
                          <small>{[...d.reasons].map(([r, n]) => `${r} ×${n}`).join(", ")}</small>
                        </div>
                      )}
                    </td>
                    <td>
                      {!m.revoked_at && (
                        <PostForm session={session} action={`${PATH}/${m.id}/revoke`} class="inline" label={`Revoke mandate ${m.id}`}>
                          <button type="submit" class="danger">
                            Revoke
                          </button>
                        </PostForm>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={mandates} />
        )}
      </section>
      <section aria-labelledby="new-h">
        <h2 id="new-h">Create a mandate</h2>
        <p>A mandate cannot be changed once created: revoke it and create another.</p>
        <PostForm session={session} action={PATH} class="stack" label="Create a mandate">
          <label for="intent">What agents may do (your own words)</label>
          <input id="intent" name="intent" value={typed.intent} required maxlength={2000} />
          <label for="max_total">Most in total ({currency})</label>
          <input id="max_total" name="max_total" value={typed.max_total} required inputmode="decimal" placeholder="20.00" />
          <label for="max_per_call">Most per call ({currency})</label>
          <input id="max_per_call" name="max_per_call" value={typed.max_per_call} required inputmode="decimal" placeholder="0.50" />
          <label for="max_per_day">Most per day (blank: no daily limit)</label>
          <input id="max_per_day" name="max_per_day" value={typed.max_per_day} inputmode="decimal" />
          <label for="valid_until">Valid until (UTC, end of that day)</label>
          <input id="valid_until" name="valid_until" value={typed.valid_until} type="date" required />
          <label for="services">Only these services (slugs, comma-separated; blank: any)</label>
          <input id="services" name="services" value={typed.services} />
          <label for="tags">Cost tags on every call (name=value, comma-separated)</label>
          <input id="tags" name="tags" value={typed.tags} placeholder="team=search" />
          <button type="submit">Create mandate</button>
        </PostForm>
      </section>
    </Layout>,
    status,
  );
}

/** The form as the API's MandateCreate body, or what is wrong with it. */
function mandateBody(body: Record<string, unknown>): Record<string, unknown> | string {
  const amounts: Record<string, number | null | undefined> = {};
  for (const name of ["max_total", "max_per_call", "max_per_day"]) {
    amounts[name] = parseAmount(body[name]);
    if (amounts[name] === undefined) return `${name}: an amount such as 2.50.`;
  }
  const until = field(body, "valid_until");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(until)) return "Valid until: a date.";
  const services = field(body, "services")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const tags: Record<string, string> = {};
  for (const pair of field(body, "tags")
    .split(",")
    .filter((p) => p.trim())) {
    const [k, ...v] = pair.split("=");
    if (!k?.trim() || v.length === 0) return "Cost tags: name=value pairs, comma-separated.";
    tags[k.trim()] = v.join("=").trim();
  }
  return {
    intent: field(body, "intent"),
    max_total: amounts.max_total ?? 0,
    max_per_call: amounts.max_per_call ?? 0,
    ...(amounts.max_per_day ? { max_per_day: amounts.max_per_day } : {}),
    valid_until: `${until}T23:59:59Z`,
    ...(services.length ? { services } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
  };
}

export async function createMandate(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const body = await c.req.parseBody();
  const typed = Object.fromEntries(FIELDS.map((name) => [name, field(body, name)]));
  const input = mandateBody(body);
  if (typeof input === "string") return mandatesPage(c, { kind: "error", text: input }, 400, typed);
  const res = await api.send("POST", `/v1/accounts/${ownerAccount(session)}/mandates`, input);
  if (!res.ok) return mandatesPage(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res), typed);
  return redirectDone(c, PATH, "mandate_created");
}

export async function revokeMandate(c: DashContext): Promise<Response> {
  const mandateId = c.req.param("mandate_id") ?? "";
  if (!MANDATE_ID.test(mandateId)) return notFoundPage(c);
  const { session, api } = signedIn(c);
  const res = await api.send("DELETE", `/v1/accounts/${ownerAccount(session)}/mandates/${mandateId}`);
  if (!res.ok) return mandatesPage(c, { kind: "error", text: apiErrorText(res) }, apiStatus(res));
  return redirectDone(c, PATH, "mandate_revoked");
}
