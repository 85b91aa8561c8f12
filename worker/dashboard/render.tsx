import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Layout } from "./layout";

/** A full page: the doctype (constant) then the escaped JSX tree. */
export async function page(c: Context, body: Child, status: ContentfulStatusCode = 200): Promise<Response> {
  return c.html(`<!doctype html>${(await body)?.toString() ?? ""}`, status);
}

/** What another role's page, an unknown id, or an unknown path all look like. */
export function notFoundPage(c: Context): Promise<Response> {
  return page(
    c,
    <Layout title="Not found">
      <p>
        There is nothing here. <a href="/dashboard">Back to the dashboard</a>.
      </p>
    </Layout>,
    404,
  );
}

export function forbiddenPage(c: Context, why: string): Promise<Response> {
  return page(
    c,
    <Layout title="Refused">
      <p role="alert">{why}</p>
      <p>
        <a href="/dashboard">Back to the dashboard</a>
      </p>
    </Layout>,
    403,
  );
}
