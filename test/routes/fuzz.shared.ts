/**
 * Bad input, generated: every JSON endpoint of /openapi.json (each POST, PATCH and PUT with a
 * JSON request body), called with a credential allowed to use it, gets FUZZ_RUNS junk requests
 * made by fast-check:
 *
 * - the endpoint's own valid body with one to three defects, derived from its documented schema:
 *   an unknown member (`__proto__`, `constructor`, `prototype`, `toString`, random names), a
 *   required member left out, a member of the wrong JSON type, out of range (0, −1, 1.5, 2^53,
 *   1e400), too long, not matching its pattern or enum, not a date-time; nested rules broken
 *   inside arrays and objects; a key repeated with the bad value last;
 * - JSON that is not an object (arrays, strings, numbers, null), JSON that is not JSON (NaN,
 *   single quotes, trailing commas, truncated, empty), very deep nesting, very long strings and
 *   very many members, unicode and control characters;
 * - a valid body sent with a content type that is not JSON, or with none.
 *
 * Every answer must be a 4xx `application/problem+json` document with the standard members
 * (never a 500, never a 2xx), and nothing may change: balances, journals, audit trails, keys,
 * mandates, services, providers and accounts are compared before and after each request.
 *
 * The endpoints are split by route family, one test file each (fuzz.<family>.error.test.ts, each
 * calling `fuzzSuite` below in a world of its own); fuzz.table.error.test.ts checks the table.
 *
 * Seeded: FUZZ_SEED (default 4242) and FUZZ_RUNS (default 25 per endpoint) can be set in the
 * shell (vitest.config.mts passes them in). A failure prints fast-check's seed, path and the
 * shrunk request; replay it with `FUZZ_SEED=<seed> npx vitest run --project workers
 * test/routes/fuzz.<family>.error.test.ts`, or pin `{ seed, path }` in the `fc.assert` call below.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerFor } from "../../worker/account-client/stub";
import { testEnv } from "../durable-objects/helpers";
import { knob } from "../simulation/knobs";
import { buildWorld, type World } from "./auth.shared";
import type { Endpoint } from "./fuzz.endpoints";
import { junkFor, send, worker } from "./fuzz.requests";
import { deref, type Schema, setComponents } from "./fuzz.schema";
import { GATEWAY } from "./helpers";

declare module "vitest" {
  export interface ProvidedContext {
    FUZZ_SEED: string;
    FUZZ_RUNS: string;
  }
}

const FUZZ_SEED = Number(knob("FUZZ_SEED") || 4_242);
const FUZZ_RUNS = Number(knob("FUZZ_RUNS") || 25);

// ---------------------------------------------------------------------------------------------
// "Nothing changed"
// ---------------------------------------------------------------------------------------------

async function snapshot(w: World) {
  const db = testEnv.DB;
  const a = ledgerFor(testEnv, w.accountA);
  const [counts, services, balance, cursor, audit, keys, mandates] = await Promise.all([
    db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM providers) AS providers, (SELECT COUNT(*) FROM accounts) AS accounts, (SELECT COUNT(*) FROM services) AS services,
                (SELECT COUNT(*) FROM service_hostnames) AS hostnames, (SELECT COUNT(*) FROM payouts) AS payouts`,
      )
      .first(),
    db
      .prepare("SELECT id, slug, name, origin, prices, plans, timeout_ms, fee_bps, updated_at FROM services WHERE provider_id = ? ORDER BY id")
      .bind(w.providerA)
      .all(),
    a.balance(),
    a.exportCursor(),
    a.auditHead(),
    a.agentKeys(100, null),
    a.mandates(100, null),
  ]);
  return { counts, services: services.results, balance, journal: cursor?.journal_seq, audit: audit && { seq: audit.seq, hash: audit.hash }, keys, mandates };
}

// ---------------------------------------------------------------------------------------------

export type OpenApiDoc = {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
};

/** /openapi.json, whose schemas (and `$ref`s) the junk is derived from. */
export async function openApi(): Promise<OpenApiDoc> {
  const res = await worker.default.fetch(new Request(`${GATEWAY}/openapi.json`));
  const doc: OpenApiDoc = await res.json();
  setComponents(doc.components.schemas);
  return doc;
}

function requestSchema(doc: OpenApiDoc, op: string): Schema {
  const [method, path] = op.split(" ") as [string, string];
  const schema = doc.paths[path]?.[method]?.requestBody?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${op}: no JSON request body in /openapi.json`);
  return schema;
}

/** The generated-junk tests for one family of endpoints, run in a world built for them. */
export function fuzzSuite(family: string, endpoints: Record<string, Endpoint>): void {
  let world: World;
  let doc: OpenApiDoc;
  const statuses = new Map<string, number>();

  beforeAll(async () => {
    world = await buildWorld();
    doc = await openApi();
  });

  afterAll(() => {
    console.log(`[fuzz] ${family}: seed=${FUZZ_SEED} runs/endpoint=${FUZZ_RUNS} statuses=${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  describe(`generated junk on every JSON endpoint (${family}) → 4xx problem+json, nothing changes`, () => {
    it.each(Object.keys(endpoints))("%s documents the body it accepts", (op) => {
      // Each valid body fits the documented schema: the generator (fuzz.schema.ts) breaks what is documented.
      const s = deref(requestSchema(doc, op));
      const valid = endpoints[op]!.valid(world);
      expect(
        Object.keys(valid).filter((k) => !Object.hasOwn(s.properties ?? {}, k)),
        `${op}: members the schema does not document`,
      ).toEqual([]);
      expect(
        (s.required ?? []).filter((k) => !(k in valid)),
        `${op}: required members`,
      ).toEqual([]);
      expect(s.additionalProperties, `${op}: unknown members are refused`).toBe(false);
    });

    it.each(Object.keys(endpoints))("%s", { timeout: 60_000 }, async (op) => {
      const endpoint = endpoints[op]!;
      const [method] = op.split(" ") as [string];
      const key = world.keys[endpoint.role];
      await fc.assert(
        fc.asyncProperty(junkFor(requestSchema(doc, op), endpoint.valid(world)), async (junk) => {
          // Per request, so that a request that did change something is the one reported (and shrunk).
          const before = await snapshot(world);
          const res = await send(method, endpoint.path(world), key, junk);
          const body = await res.text();
          const where = `${op} ${junk.kind}: ${res.status} ${body.slice(0, 300)}`;
          statuses.set(`${res.status}`, (statuses.get(`${res.status}`) ?? 0) + 1);
          expect(res.status, where).toBeGreaterThanOrEqual(400);
          expect(res.status, where).toBeLessThan(500);
          expect(res.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
          const problem = JSON.parse(body);
          expect(problem, where).toMatchObject({
            type: expect.any(String),
            title: expect.any(String),
            status: res.status,
            detail: expect.any(String),
            code: expect.any(String),
          });
          expect(["invalid_request", "payload_too_large"], where).toContain(problem.code);
          expect(await snapshot(world), `${where}: something changed`).toEqual(before);
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
      );
    });
  });
}
