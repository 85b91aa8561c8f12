/**
 * The one auth suite every protected route runs (Unkey's `testutil/common-tests.ts`): one table
 * of protected routes (auth.routes.ts, run in the world of auth.world.ts), and checks for a missing, malformed, truncated or altered credential and
 * for every role that must not reach the route.
 *
 * Wrong-role statuses are what the code does today. A credential used on an object it does
 * not own gets 404, as if the object did not exist; role-only endpoints (operator-only,
 * agent-only) have no object to hide and answer 403, except `GET /v1/me` and the proxy, which answer 401 `invalid_key` to any
 * credential that is not an agent key.
 */
import { expect, it } from "vitest";
import type { ProtectedRoute } from "./auth.routes";
import type { Role, World } from "./auth.world";
import { call, expectProblem, flip } from "./helpers";

export { PROTECTED_ROUTES } from "./auth.routes";
export { buildWorld, type Role, type World } from "./auth.world";

/** The same key with one character of its object id changed (it then names another object). */
function flipId(key: string): string {
  return key.startsWith("tg_") ? flip(key, key.indexOf("_", 3) + 3) : flip(key, 3);
}

const CODE_OF: Record<number, string> = { 401: "invalid_key", 403: "forbidden", 404: "not_found" };

/** Runs the shared auth checks for one route; `world` is read when the tests run. */
export function authSuite(route: ProtectedRoute, world: () => World): void {
  const send = (key: string | null, headers: Record<string, string> = {}) => {
    const w = world();
    return call(route.path(w), { method: route.method, key, headers: { ...route.headers, ...headers }, body: route.body?.(w) });
  };
  const good = () => world().keys[route.allowed];

  const missing = route.missing ?? { status: 401, code: "unauthorized" };
  it(`without a credential → ${missing.status} ${missing.code}`, async () => {
    await expectProblem(await send(null), missing.status, missing.code);
  });

  it(`with a non-Bearer Authorization → ${missing.status} ${missing.code}`, async () => {
    await expectProblem(await send(null, { authorization: `Basic ${btoa(`user:${good()}`)}` }), missing.status, missing.code);
  });

  it("with a garbage key → 401 invalid_key", async () => {
    await expectProblem(await send("not-a-tollgate-key"), 401, "invalid_key");
  });

  it("with the right key truncated by one character → 401 invalid_key", async () => {
    await expectProblem(await send(good().slice(0, -1)), 401, "invalid_key");
  });

  it("with one character of the secret changed → 401 invalid_key", async () => {
    await expectProblem(await send(flip(good())), 401, "invalid_key");
  });

  it("with one character of the key's object id changed → 401 invalid_key", async () => {
    await expectProblem(await send(flipId(good())), 401, "invalid_key");
  });

  it(`with the ${route.allowed} credential → ${route.ok}`, async () => {
    const res = await send(good());
    expect(res.status, await res.clone().text()).toBe(route.ok);
    await res.body?.cancel();
  });

  for (const role of route.alsoAllowed ?? []) {
    it(`with the ${role} credential → ${route.ok}`, async () => {
      const res = await send(world().keys[role]);
      expect(res.status, await res.clone().text()).toBe(route.ok);
      await res.body?.cancel();
    });
  }

  for (const [role, status] of Object.entries(route.wrong)) {
    it(`with the ${role} credential → ${status}`, async () => {
      await expectProblem(await send(world().keys[role as Role]), status, CODE_OF[status]);
    });
  }
}
