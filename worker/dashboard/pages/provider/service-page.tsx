import type { ContentfulStatusCode } from "hono/utils/http-status";
import { sdkSnippet } from "../../../onboarding/snippet";
import { type DashContext, signedIn } from "../../context";
import { field, money } from "../../format";
import { Layout, type Message, PostForm } from "../../layout";
import { notFoundPage, page } from "../../render";
import { ApiErrorNote, apiStatus } from "../../api-errors";
import { ChargesTable } from "./charges";
import type { Charge, Service } from "./data";
import { noticeOf, redirectDone } from "../../notices";
import { apiFieldErrors, Field, type FieldErrors, FormErrors, parseJsonFields } from "./service-form";
import { SERVICES } from "./services";

type EditFields = { prices: string; plans: string; hostnames: string };

/** A stored plan as the API takes it back (its id keeps it; null limits are left out). */
function planInput(plan: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(plan).filter(([, v]) => v !== null));
}

function editFieldsOf(s: Service): EditFields {
  return {
    prices: JSON.stringify(s.prices, null, 1),
    plans: JSON.stringify(s.plans.map(planInput), null, 1),
    hostnames: s.hostnames.map((h) => h.hostname).join("\n"),
  };
}

/** One service: what agents see (its public price list), the SDK snippet, the edit form, its charges. */
export async function servicePage(
  c: DashContext,
  edit?: { fields: EditFields; errors: FieldErrors },
  message: Message = null,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = c.req.param("service_id") ?? "";
  const res = await api.get(`/v1/services/${encodeURIComponent(id)}`);
  if (res.status === 404) return notFoundPage(c);
  if (!res.ok)
    return page(
      c,
      <Layout title="Service" session={session} path={SERVICES}>
        <ApiErrorNote result={res} />
      </Layout>,
      apiStatus(res),
    );
  const service = res.body as Service;
  const [pricing, transfers] = await Promise.all([
    api.get(`/v1/services/${encodeURIComponent(service.id)}/pricing`),
    api.get(`/v1/services/${encodeURIComponent(service.id)}/transfers?limit=50`),
  ]);
  const snippet = sdkSnippet({ serviceId: service.id, slug: service.slug, gatewayUrl: new URL(c.req.url).origin });
  const form = edit ?? { fields: editFieldsOf(service), errors: {} };
  const action = `${SERVICES}/${encodeURIComponent(service.id)}`;
  return page(
    c,
    <Layout title={`Service: ${service.name}`} session={session} path={SERVICES} message={message ?? noticeOf(c)}>
      <section aria-labelledby="about-h">
        <h2 id="about-h">About</h2>
        <p>
          {`Id ${service.id} · slug ${service.slug} · ${service.protocol} · ${service.currency} · origin `}
          <code>{service.origin}</code>
        </p>
        <p>
          Agents call <code data-testid="service-url">{`${new URL(c.req.url).origin}/s/${service.slug}/`}</code>
        </p>
      </section>
      <section aria-labelledby="pricing-h" data-testid="pricing">
        <h2 id="pricing-h">Price list, as agents see it</h2>
        {pricing.ok ? (
          <>
            <p>{pricing.body.currency_note}</p>
            <ul>
              {(pricing.body.prices as Record<string, unknown>[]).map((rule) => (
                <li data-testid="price-rule">{describeRule(rule, pricing.body.currency)}</li>
              ))}
            </ul>
            {pricing.body.plans.length > 0 && (
              <ul>
                {(pricing.body.plans as { name: string; price: number; calls: number | null; duration_s: number | null }[]).map((p) => (
                  <li data-testid="plan">{`Plan “${p.name}”: ${money(p.price, pricing.body.currency)}${p.calls ? `, ${p.calls} calls` : ""}${p.duration_s ? `, ${Math.round(p.duration_s / 86_400)} days` : ""}`}</li>
                ))}
              </ul>
            )}
            <details>
              <summary>The JSON agents read (GET /v1/services/{service.id}/pricing)</summary>
              <pre data-testid="pricing-json">{JSON.stringify(pricing.body, null, 2)}</pre>
            </details>
          </>
        ) : (
          <ApiErrorNote result={pricing} />
        )}
      </section>
      <section aria-labelledby="sdk-h" data-testid="snippet">
        <h2 id="sdk-h">Verify the gateway's calls in your origin</h2>
        <p>Install the SDK:</p>
        <pre data-testid="snippet-install">{snippet.install}</pre>
        <p>Then verify every request before doing any work (answer 401 to anything else):</p>
        <pre data-testid="snippet-code">{snippet.code}</pre>
      </section>
      {service.hostnames.length > 0 && (
        <section aria-labelledby="hosts-h">
          <h2 id="hosts-h">Custom hostnames</h2>
          <ul>
            {service.hostnames.map((h) => (
              <li>{`${h.hostname}: ${h.status}${h.status === "pending" ? ` — publish TXT ${h.verification.name} = ${h.verification.value}` : ""}`}</li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="edit-h">
        <h2 id="edit-h">Change prices, plans and hostnames</h2>
        <FormErrors errors={form.errors} />
        <PostForm session={session} action={action} class="stack" label="Change the service">
          <Field name="prices" label="Prices (JSON)" value={form.fields.prices} errors={form.errors} area required />
          <Field
            name="plans"
            label="Plans (JSON)"
            value={form.fields.plans}
            errors={form.errors}
            area
            hint="Keep a plan by keeping its id; leave it out to drop it."
          />
          <Field name="hostnames" label="Custom hostnames (one per line)" value={form.fields.hostnames} errors={form.errors} area />
          <button type="submit">Save changes</button>
        </PostForm>
      </section>
      <section aria-labelledby="charges-h">
        <h2 id="charges-h">Latest charges</h2>
        {transfers.ok ? (
          <ChargesTable session={session} charges={transfers.body.data as Charge[]} names={new Map([[service.id, service.name]])} back={action} />
        ) : (
          <ApiErrorNote result={transfers} />
        )}
      </section>
    </Layout>,
    status,
  );
}

/** A price rule in words, for people; the JSON beside it is what clients read. */
function describeRule(rule: Record<string, unknown>, currency: string): string {
  const parts: string[] = [];
  const match = rule.match as Record<string, unknown> | undefined;
  const where = match && Object.keys(match).length > 0 ? `Calls matching ${JSON.stringify(match)}` : "Every call";
  if (typeof rule.per_call === "number") parts.push(`${money(rule.per_call, currency)} a call`);
  for (const k of ["input", "output", "cached_input", "rate"] as const) {
    const r = rule[k] as { amount: number; per: number } | undefined;
    if (r) parts.push(`${k === "rate" ? String(rule.meter ?? "") : k}: ${money(r.amount, currency)} per ${r.per}`);
  }
  if (typeof rule.meter === "string" && !rule.rate) parts.push(`metered by ${rule.meter}`);
  return `${where}: ${parts.join(", ") || JSON.stringify(rule)}`;
}

/** PATCH /v1/services/{id} with the edit form; a refusal shows the form as typed, errors by field. */
export async function updateService(c: DashContext): Promise<Response> {
  const { api } = signedIn(c);
  const id = c.req.param("service_id") ?? "";
  const body = await c.req.parseBody();
  const fields: EditFields = { prices: field(body, "prices"), plans: field(body, "plans"), hostnames: field(body, "hostnames") };
  const { values, errors } = parseJsonFields(fields);
  if (Object.keys(errors).length > 0) return servicePage(c, { fields, errors }, null, 400);
  const res = await api.send("PATCH", `/v1/services/${encodeURIComponent(id)}`, {
    ...(values.prices !== undefined ? { prices: values.prices } : {}),
    plans: values.plans ?? [],
    hostnames: values.hostnames,
  });
  if (res.status === 404) return notFoundPage(c);
  if (!res.ok) return servicePage(c, { fields, errors: apiFieldErrors(res) }, null, apiStatus(res));
  return redirectDone(c, `${SERVICES}/${encodeURIComponent(id)}`, "service_updated");
}
