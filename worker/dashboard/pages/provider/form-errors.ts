/**
 * The service form's text: the JSON areas parsed for syntax only, and the API's problem+json
 * refusal sorted by field. Nothing else imported, so it can be tested on its own.
 */

/** The part of an API answer a refusal is read from (api.ts `ApiResult`). */
// biome-ignore lint/suspicious/noExplicitAny: problem+json bodies are read field by field
type Refusal = { status: number; body: any };

/** The service form's fields, as typed (a refused form comes back exactly as it was sent). */
export type ServiceFields = { slug: string; name: string; origin: string; currency: string; prices: string; plans: string; hostnames: string };
export type FieldName = keyof ServiceFields;
/** Per field, what is wrong with it; `_form` for what belongs to no one field. */
export type FieldErrors = Partial<Record<FieldName | "_form", string[]>>;

const FIELDS: FieldName[] = ["slug", "name", "origin", "currency", "prices", "plans", "hostnames"];

export const EXAMPLE_PRICES = '[{ "per_call": 10000 }]';

/** A form field as trimmed text ("" when absent or a file). */
function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  return typeof v === "string" ? v.trim() : "";
}

export function fieldsOf(body: Record<string, unknown>): ServiceFields {
  return {
    slug: field(body, "slug"),
    name: field(body, "name"),
    origin: field(body, "origin"),
    currency: field(body, "currency").toUpperCase(),
    prices: field(body, "prices"),
    plans: field(body, "plans"),
    hostnames: field(body, "hostnames"),
  };
}

/**
 * The JSON text areas parsed (only the syntax is checked here: every rule about prices and plans
 * is the API's); hostnames are one per line. A field that is not JSON is an error of that field.
 */
export function parseJsonFields(f: Pick<ServiceFields, "prices" | "plans" | "hostnames">): { values: Record<string, unknown>; errors: FieldErrors } {
  const values: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const name of ["prices", "plans"] as const) {
    if (f[name] === "") continue;
    try {
      values[name] = JSON.parse(f[name]);
    } catch (e) {
      errors[name] = [`not valid JSON (${e instanceof Error ? e.message : "syntax error"})`];
    }
  }
  values.hostnames = f.hostnames
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);
  return { values, errors };
}

/**
 * The API's problem+json refusal, field by field: each `errors[]` issue goes to the field its
 * path starts with (`prices.0.per_call` → prices); a `detail` of the form `field: …` too.
 */
export function apiFieldErrors(result: Refusal): FieldErrors {
  const out: FieldErrors = {};
  const add = (name: FieldName | "_form", text: string) => {
    out[name] = [...(out[name] ?? []), text];
  };
  const body = result.body;
  const issues: { path?: unknown; message?: unknown }[] = body && Array.isArray(body.errors) ? body.errors : [];
  for (const issue of issues) {
    const path = typeof issue.path === "string" ? issue.path : "";
    const [head = "", ...rest] = path.split(".");
    const message = typeof issue.message === "string" ? issue.message : "invalid";
    if ((FIELDS as string[]).includes(head)) add(head as FieldName, rest.length ? `${rest.join(".")}: ${message}` : message);
    else add("_form", path ? `${path}: ${message}` : message);
  }
  if (issues.length === 0) {
    const detail = body && typeof body.detail === "string" ? body.detail : `The request failed (HTTP ${result.status}).`;
    const m = /^([a-z_]+)(?:\.[^:]*)?: (.*)$/s.exec(detail);
    const name = m?.[1] ?? "";
    if (m && (FIELDS as string[]).includes(name)) add(name as FieldName, m[2] ?? detail);
    else add("_form", detail);
  }
  return out;
}
