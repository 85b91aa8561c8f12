import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiResult } from "./api";

/** The API's own words for a refusal (its problem+json `detail`), or its status. */
export function apiErrorText(result: ApiResult): string {
  const body = result.body;
  if (body && typeof body === "object" && typeof body.detail === "string") return `${body.detail} (${body.code ?? result.status})`;
  return `The request failed (HTTP ${result.status}).`;
}

export function ApiErrorNote({ result }: { result: ApiResult }) {
  return (
    <p class="error" role="alert">
      {apiErrorText(result)}
    </p>
  );
}

/** A refused action's page carries the API's status (404, 409, 422…), so a client sees what happened. */
export function apiStatus(result: ApiResult): ContentfulStatusCode {
  return result.status >= 400 && result.status <= 599 ? (result.status as ContentfulStatusCode) : 502;
}
