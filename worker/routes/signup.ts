import { createRoute, z } from "@hono/zod-openapi";
import { clientOf } from "../auth/throttle";
import { openProvider, SignupInput } from "../onboarding/signup";
import { errors, json, jsonBody, Problem, router } from "./common";

const SignupCreated = z
  .object({
    provider: z.object({ id: z.string(), name: z.string(), email: z.string(), created_at: z.string() }),
    api_key: z.string().openapi({ description: "The provider's key. Shown once (and again only to a retry with the same Idempotency-Key)." }),
  })
  .openapi("SignupCreated");

const SignupHeaders = z.object({
  // At least 16 characters: on this public route the key is what lets a retry read the provider
  // key back, so it must be unguessable (a random UUID is).
  "idempotency-key": z
    .string()
    .min(16)
    .max(255)
    .optional()
    .openapi({ description: "Makes the sign-up safe to retry (16–255 characters, e.g. a random UUID): a retry answers the same provider and key." }),
});

const tooMany = { 429: { description: "Error (429)", content: { "application/problem+json": { schema: Problem } } } };

export const signupRoutes = router().openapi(
  createRoute({
    method: "post",
    path: "/v1/signup",
    summary: "Sign up as a provider, when the operator allows it (public)",
    request: { headers: SignupHeaders, body: jsonBody(SignupInput) },
    responses: { 201: json(SignupCreated, "Created"), ...errors(400, 403, 422), ...tooMany },
  }),
  async (c) => {
    const opened = await openProvider(c.env, c.req.valid("json"), {
      idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
      client: clientOf(c.req.raw.headers),
    });
    if (opened.replayed) c.header("Idempotent-Replayed", "true");
    return c.json({ provider: opened.provider, api_key: opened.apiKey }, 201);
  },
);
