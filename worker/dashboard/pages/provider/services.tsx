import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DashContext, signedIn } from "../../context";
import { Layout, PostForm } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote, apiStatus } from "../../api-errors";
import { providerServices } from "./data";
import { noticeOf, redirectDone } from "../../notices";
import { apiFieldErrors, EXAMPLE_PRICES, Field, type FieldErrors, FormErrors, fieldsOf, parseJsonFields, type ServiceFields } from "./service-form";

export const SERVICES = "/dashboard/provider/services";
const NEW = "/dashboard/provider/services/new";

export async function servicesPage(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const services = await providerServices(api);
  return page(
    c,
    <Layout title="Services" session={session} path={SERVICES} message={noticeOf(c)}>
      <p>
        <a href={NEW}>Create a service</a>
      </p>
      <section>
        {services.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">Origin</th>
                <th scope="col">Currency</th>
                <th scope="col">Prices</th>
                <th scope="col">Plans</th>
              </tr>
            </thead>
            <tbody>
              {services.data.length === 0 && (
                <tr>
                  <td colspan={6}>No services yet.</td>
                </tr>
              )}
              {services.data.map((s) => (
                <tr data-service-id={s.id}>
                  <td>
                    <a href={`${SERVICES}/${encodeURIComponent(s.id)}`}>{s.name}</a>
                  </td>
                  <td>{s.slug}</td>
                  <td>{s.origin}</td>
                  <td>{s.currency}</td>
                  <td>{`${s.prices.length} rule${s.prices.length === 1 ? "" : "s"}`}</td>
                  <td>{s.plans.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={services.result} />
        )}
      </section>
    </Layout>,
  );
}

export const BLANK_SERVICE: ServiceFields = { slug: "", name: "", origin: "https://", currency: "USD", prices: EXAMPLE_PRICES, plans: "", hostnames: "" };

/** The create form; `notice` is shown above it (the key page after sign-up renders it too). */
export async function newServicePage(
  c: DashContext,
  fields: ServiceFields = BLANK_SERVICE,
  errors: FieldErrors = {},
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const { session } = signedIn(c);
  return page(
    c,
    <Layout title="Create a service" session={session} path={SERVICES}>
      <NewServiceForm session={session} fields={fields} errors={errors} />
    </Layout>,
    status,
  );
}

export function NewServiceForm({
  session,
  fields,
  errors,
}: {
  session: Parameters<typeof PostForm>[0]["session"];
  fields: ServiceFields;
  errors: FieldErrors;
}) {
  return (
    <section aria-labelledby="new-service-h">
      <h2 id="new-service-h">New service</h2>
      <FormErrors errors={errors} />
      <PostForm session={session} action={SERVICES} class="stack" label="Create a service">
        <Field name="slug" label="Slug" value={fields.slug} errors={errors} required hint="Agents call /s/<slug>/…: 2–63 characters of a-z, 0-9 and -." />
        <Field name="name" label="Name" value={fields.name} errors={errors} required />
        <Field name="origin" label="Origin URL" value={fields.origin} errors={errors} required hint="Where the gateway forwards paid calls (https)." />
        <Field name="currency" label="Currency" value={fields.currency} errors={errors} hint="ISO 4217; fixed once the service exists." />
        <Field
          name="prices"
          label="Prices (JSON)"
          value={fields.prices}
          errors={errors}
          area
          required
          hint='Price rules in micro-units, e.g. [{ "per_call": 10000 }] is 0.01 a call (docs/METERING.md).'
        />
        <Field
          name="plans"
          label="Plans (JSON, optional)"
          value={fields.plans}
          errors={errors}
          area
          hint='e.g. [{ "name": "Monthly", "price": 5000000, "calls": 1000, "duration_s": 2592000 }]'
        />
        <Field name="hostnames" label="Custom hostnames (optional, one per line)" value={fields.hostnames} errors={errors} area />
        <button type="submit">Create service</button>
      </PostForm>
    </section>
  );
}

/** POST /v1/services with the form; a refusal re-renders the form as typed, errors by each field. */
export async function createService(c: DashContext): Promise<Response> {
  const { api } = signedIn(c);
  const fields = fieldsOf(await c.req.parseBody());
  const { values, errors } = parseJsonFields(fields);
  if (Object.keys(errors).length > 0) return newServicePage(c, fields, errors, 400);
  const res = await api.send("POST", "/v1/services", {
    slug: fields.slug,
    name: fields.name,
    origin: fields.origin,
    ...(fields.currency ? { currency: fields.currency } : {}),
    prices: values.prices ?? [],
    ...(values.plans !== undefined ? { plans: values.plans } : {}),
    hostnames: values.hostnames,
  });
  if (!res.ok) return newServicePage(c, fields, apiFieldErrors(res), apiStatus(res));
  return redirectDone(c, `${SERVICES}/${encodeURIComponent(res.body.id)}`, "service_created");
}
