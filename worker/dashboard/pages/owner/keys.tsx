import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DashContext, ownerAccount, signedIn } from "../../context";
import { field, money, parseAmount, when } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { notFoundPage, page } from "../../render";
import type { Session } from "../../session";
import { ApiErrorNote, apiErrorText, apiStatus } from "../../api-errors";
import { noticeOf, redirectDone } from "../../notices";
import type { AgentKey } from "../../../../durable-objects/types";

const PATH = "/dashboard/owner/keys";
/** Agent key ids as the API issues them: anything else is not a key of this account. */
const KEY_ID = /^ak_[0-9a-z]{20}$/;

function LimitFields({ prefix, calls, spend }: { prefix: string; calls?: number | null; spend?: number | null }) {
  return (
    <>
      <label for={`${prefix}-calls`}>Most calls per minute (blank: no limit)</label>
      <input id={`${prefix}-calls`} name="max_calls_per_minute" inputmode="numeric" pattern="[0-9]*" value={calls ?? ""} />
      <label for={`${prefix}-spend`}>Most spend per minute (blank: no limit)</label>
      <input id={`${prefix}-spend`} name="max_spend_per_minute" inputmode="decimal" value={spend ? money(spend) : ""} placeholder="1.00" />
    </>
  );
}

/** The velocity limits of a form, as the API takes them; a string when one is not a number. */
function limitsOf(body: Record<string, unknown>): { max_calls_per_minute: number | null; max_spend_per_minute: number | null } | string {
  const calls = field(body, "max_calls_per_minute");
  if (calls !== "" && !/^\d{1,7}$/.test(calls)) return "Most calls per minute: a whole number.";
  const spend = parseAmount(body.max_spend_per_minute);
  if (spend === undefined) return "Most spend per minute: an amount such as 1.50.";
  return { max_calls_per_minute: calls === "" ? null : Number(calls), max_spend_per_minute: spend };
}

function KeyRow({ k, session, currency }: { k: AgentKey; session: Session; currency: string }) {
  const state = k.revoked_at ? `revoked ${when(k.revoked_at)}` : k.frozen_at ? "frozen by the operator" : "active";
  return (
    <tr data-key-id={k.id}>
      <td>
        {k.name}
        <br />
        <small>{k.id}</small>
      </td>
      <td>{k.mandate_id ?? "none"}</td>
      <td>
        {k.max_calls_per_minute ?? "no limit"} calls/min
        <br />
        {k.max_spend_per_minute === null ? "no limit" : money(k.max_spend_per_minute, currency)} /min
      </td>
      <td>{state}</td>
      <td>
        {!k.revoked_at && (
          <>
            <details>
              <summary>Set limits</summary>
              <PostForm session={session} action={`${PATH}/${k.id}/limits`} class="stack" label={`Limits of ${k.name}`}>
                <LimitFields prefix={k.id} calls={k.max_calls_per_minute} spend={k.max_spend_per_minute} />
                <button type="submit">Save limits</button>
              </PostForm>
            </details>
            <PostForm session={session} action={`${PATH}/${k.id}/revoke`} class="inline" label={`Revoke ${k.name}`}>
              <button type="submit" class="danger">
                Revoke
              </button>
            </PostForm>
          </>
        )}
      </td>
    </tr>
  );
}

/** The account's agent keys, the form to issue one, and (once, right after) the new key's secret. */
export async function keysPage(
  c: DashContext,
  message: Message = null,
  created: { name: string; key: string } | null = null,
  status: ContentfulStatusCode = 200,
) {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const [keys, mandates, balance] = await Promise.all([
    api.get(`/v1/accounts/${id}/agent-keys?limit=100`),
    api.get(`/v1/accounts/${id}/mandates?limit=100`),
    api.get(`/v1/accounts/${id}/balance`),
  ]);
  const currency: string = balance.ok ? balance.body.currency : "";
  const active: { id: string; intent: string }[] = mandates.ok ? mandates.body.data.filter((m: { revoked_at: string | null }) => !m.revoked_at) : [];
  return page(
    c,
    <Layout title="Agent keys" session={session} path={PATH} message={message ?? noticeOf(c)}>
      {created && (
        <section class="notice" aria-labelledby="secret-h">
          <h2 id="secret-h">Key “{created.name}” created</h2>
          <p>Copy it now: it is shown this once and cannot be shown again.</p>
          <p class="secret" data-testid="new-key">
            {created.key}
          </p>
        </section>
      )}
      <section aria-labelledby="list-h">
        <h2 id="list-h">Keys</h2>
        {keys.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Mandate</th>
                <th scope="col">Limits</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.body.data.length === 0 && (
                <tr>
                  <td colspan={5}>No agent keys yet.</td>
                </tr>
              )}
              {keys.body.data.map((k: AgentKey) => (
                <KeyRow k={k} session={session} currency={currency} />
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={keys} />
        )}
      </section>
      <section aria-labelledby="new-h">
        <h2 id="new-h">Issue a key</h2>
        <PostForm session={session} action={PATH} class="stack" label="Issue an agent key">
          <label for="name">Name</label>
          <input id="name" name="name" required maxlength={200} />
          <label for="mandate">Mandate (its limits bind every call of the key)</label>
          <select id="mandate" name="mandate_id">
            <option value="">None</option>
            {active.map((m) => (
              <option value={m.id}>{`${m.id}: ${m.intent.slice(0, 60)}`}</option>
            ))}
          </select>
          <LimitFields prefix="new" />
          <button type="submit">Create key</button>
        </PostForm>
      </section>
    </Layout>,
    status,
  );
}

export async function createKey(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const body = await c.req.parseBody();
  const limits = limitsOf(body);
  if (typeof limits === "string") return keysPage(c, { kind: "error", text: limits }, null, 400);
  const mandateId = field(body, "mandate_id");
  const res = await api.send("POST", `/v1/accounts/${ownerAccount(session)}/agent-keys`, {
    name: field(body, "name"),
    ...(mandateId ? { mandate_id: mandateId } : {}),
    ...limits,
  });
  if (!res.ok) return keysPage(c, { kind: "error", text: apiErrorText(res) }, null, apiStatus(res));
  // Rendered into this response only: the secret is never stored, redirected or logged.
  return keysPage(c, null, { name: res.body.name, key: res.body.key }, 201);
}

export async function setKeyLimits(c: DashContext): Promise<Response> {
  const keyId = c.req.param("key_id") ?? "";
  if (!KEY_ID.test(keyId)) return notFoundPage(c);
  const { session, api } = signedIn(c);
  const limits = limitsOf(await c.req.parseBody());
  if (typeof limits === "string") return keysPage(c, { kind: "error", text: limits }, null, 400);
  const res = await api.send("PATCH", `/v1/accounts/${ownerAccount(session)}/agent-keys/${keyId}`, limits);
  if (!res.ok) return keysPage(c, { kind: "error", text: apiErrorText(res) }, null, apiStatus(res));
  return redirectDone(c, PATH, "limits_set");
}

export async function revokeKey(c: DashContext): Promise<Response> {
  const keyId = c.req.param("key_id") ?? "";
  if (!KEY_ID.test(keyId)) return notFoundPage(c);
  const { session, api } = signedIn(c);
  const res = await api.send("DELETE", `/v1/accounts/${ownerAccount(session)}/agent-keys/${keyId}`);
  if (!res.ok) return keysPage(c, { kind: "error", text: apiErrorText(res) }, null, apiStatus(res));
  return redirectDone(c, PATH, "key_revoked");
}
