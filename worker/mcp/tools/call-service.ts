import { z } from "zod";
import { ApiError, ERROR_CODES } from "../../errors";
import { Slug } from "../../services/schema";
import { agentOf, type ToolRegistrar } from "../context";
import { refusal, success, outputOf } from "../results";

/** The most of a response body a tool result carries; the rest is cut (`truncated`). */
export const MAX_TOOL_BODY = 64 * 1024;

/**
 * Headers the tool sets itself or the edge sets: the credential is the agent's own key, and the
 * client address is the MCP request's, never values the agent passes.
 */
const RESERVED = new Set(["authorization", "x-api-key", "host", "content-length", "idempotency-key", "transfer-encoding", "connection", "cookie"]);
const reserved = (name: string) => RESERVED.has(name) || name.startsWith("cf-") || name.startsWith("x-forwarded-") || name.startsWith("tollgate-");

const Output = {
  status: z.number().int().describe("The HTTP status the service (or, on a refusal, the gateway) answered."),
  content_type: z.string().nullable(),
  body: z.string().describe("The response body as text (UTF-8), at most 64 KiB."),
  truncated: z.boolean().describe("True when the body was longer and was cut."),
  charge: z.number().int().nullable().describe("tollgate-charge: what the call cost in micro-units (null when not known at the headers)."),
  balance: z.number().int().nullable().describe("tollgate-balance: the available balance after the charge."),
  pass: z.string().nullable().describe("tollgate-pass: the pass that covered the call (then charge is 0)."),
  request_id: z.string().nullable().describe("tollgate-request-id: the call's id, for refunds and disputes."),
};

/** Reads at most `max` bytes of a body as text; the rest is not read. */
async function cappedText(body: ReadableStream<Uint8Array> | null, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!body) return { text: "", truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - size;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      size = max;
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  // `stream: true` leaves a character cut at the cap out instead of turning it into U+FFFD.
  return { text: new TextDecoder().decode(all, { stream: truncated }), truncated };
}

const numberOrNull = (v: string | null) => (v === null || !/^\d+$/.test(v) ? null : Number(v));

/** The gateway's own refusal (problem+json with one of its codes), as opposed to whatever the origin answered. */
function gatewayRefusal(res: Response, text: string): ApiError | null {
  if (!res.headers.get("content-type")?.startsWith("application/problem+json") || res.headers.has("tollgate-charge")) return null;
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const code = doc.code as (typeof ERROR_CODES)[number];
    if (!ERROR_CODES.includes(code) || typeof doc.type !== "string" || !doc.type.startsWith("https://tollgate.dev/problems/")) return null;
    const { type: _t, title: _ti, status: _s, detail, code: _c, ...extra } = doc;
    return new ApiError(code, typeof detail === "string" ? detail : undefined, extra);
  } catch {
    return null;
  }
}

export const registerCallService: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "call_service",
    {
      title: "Call a paid service",
      description:
        "A metered call to a service through the gateway, paid from the account's balance under this key's mandate, exactly as an HTTP call to /s/{slug}{path} with the key. " +
        "A refused payment (insufficient_funds, mandate_*, pass_required, …) is an error result whose structured content says why; nothing is charged then.",
      inputSchema: z
        .object({
          slug: Slug.describe("The service's slug (list_services)."),
          method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]),
          path: z
            .string()
            .max(2048)
            .regex(/^\/[^#]*$/, "starts with / (a query string may follow)")
            .describe("The path at the service, starting with /, e.g. /v1/search?q=x."),
          body: z
            .string()
            .max(1024 * 1024)
            .optional()
            .describe("The request body, as text."),
          headers: z.record(z.string().max(64), z.string().max(4096)).optional().describe("Extra request headers, e.g. content-type."),
          idempotency_key: z.string().min(1).max(255).optional().describe("Makes the call safe to retry: a retry with the same key is not charged twice."),
        })
        .strict(),
      outputSchema: outputOf(Output),
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    async (input, extra) => {
      const agent = agentOf(extra);
      const prefix = `/s/${input.slug}`;
      const url = new URL(prefix + input.path, ctx.gatewayOrigin);
      // URL parsing resolves dot segments: a path that climbs out of the service is not a call to it.
      if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
        return refusal(new ApiError("invalid_request", "path: must stay within the service (no '..' segments)"));
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(input.headers ?? {})) {
        if (!reserved(name.toLowerCase())) headers.set(name, value);
      }
      if (ctx.clientIp) headers.set("cf-connecting-ip", ctx.clientIp);
      headers.set("authorization", `Bearer ${agent.key}`);
      if (input.idempotency_key) headers.set("idempotency-key", input.idempotency_key);
      const hasBody = input.body !== undefined && input.method !== "GET";
      const res = await ctx.dispatch(new Request(url, { method: input.method, headers, body: hasBody ? input.body : undefined, redirect: "manual" }));
      const { text, truncated } = await cappedText(res.body, MAX_TOOL_BODY);
      const refused = gatewayRefusal(res, text);
      if (refused) return refusal(refused);
      return success({
        status: res.status,
        content_type: res.headers.get("content-type"),
        body: text,
        truncated,
        charge: numberOrNull(res.headers.get("tollgate-charge")),
        balance: numberOrNull(res.headers.get("tollgate-balance")),
        pass: res.headers.get("tollgate-pass"),
        request_id: res.headers.get("tollgate-request-id"),
      });
    },
  );
};
