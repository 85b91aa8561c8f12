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
 * Seeded: FUZZ_SEED (default 4242) and FUZZ_RUNS (default 25 per endpoint) can be set in the
 * shell (vitest.config.mts passes them in). A failure prints fast-check's seed, path and the
 * shrunk request; replay it with `FUZZ_SEED=<seed> npx vitest run --project workers
 * test/routes/fuzz.error.test.ts`, or pin `{ seed, path }` in the `fc.assert` call below.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ledgerFor } from "../../worker/account-client/stub";
import { testEnv } from "../durable-objects/helpers";
import { buildWorld, PROTECTED_ROUTES, type Role, type World } from "./auth.shared";
import { GATEWAY, originUrl, unique } from "./helpers";

declare module "vitest" {
  // biome-ignore lint/suspicious/noExportsInTest: a module augmentation (vitest's provide/inject types), not a test export
  export interface ProvidedContext {
    FUZZ_SEED: string;
    FUZZ_RUNS: string;
  }
}

/** From vitest.config.mts (the shell's FUZZ_SEED / FUZZ_RUNS); absent under another config. */
function knob(name: "FUZZ_SEED" | "FUZZ_RUNS"): string {
  try {
    return String(inject(name) ?? "");
  } catch {
    return "";
  }
}

const FUZZ_SEED = Number(knob("FUZZ_SEED") || 4_242);
const FUZZ_RUNS = Number(knob("FUZZ_RUNS") || 25);

const worker = exports as unknown as { default: { fetch(request: Request): Promise<Response> } };

// ---------------------------------------------------------------------------------------------
// The endpoints: what /openapi.json lists, with a credential and a valid body for each
// ---------------------------------------------------------------------------------------------

type Endpoint = { role: Role; path: (w: World) => string; valid: (w: World) => Record<string, unknown> };

const ENDPOINTS: Record<string, Endpoint> = {
  "post /v1/providers": { role: "operator", path: () => "/v1/providers", valid: () => ({ name: "fuzz" }) },
  "post /v1/accounts": { role: "operator", path: () => "/v1/accounts", valid: () => ({ name: "fuzz", currency: "USD" }) },
  "patch /v1/accounts/{id}": { role: "ownerA", path: (w) => `/v1/accounts/${w.accountA}`, valid: () => ({ shards: 1 }) },
  "post /v1/accounts/{id}/credits": { role: "operator", path: (w) => `/v1/accounts/${w.accountA}/credits`, valid: () => ({ amount: 1, reference: "fuzz" }) },
  "post /v1/accounts/{id}/agent-keys": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys`,
    valid: () => ({ name: "fuzz", max_calls_per_minute: 5 }),
  },
  "patch /v1/accounts/{id}/agent-keys/{key_id}": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.revocableKeyId}`,
    valid: () => ({ max_calls_per_minute: 5, max_spend_per_minute: 100 }),
  },
  "put /v1/accounts/{id}/agent-keys/{key_id}/frozen": {
    role: "operator",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.revocableKeyId}/frozen`,
    valid: () => ({ frozen: true }),
  },
  "put /v1/accounts/{id}/frozen": { role: "operator", path: (w) => `/v1/accounts/${w.accountA}/frozen`, valid: () => ({ frozen: true }) },
  "post /v1/accounts/{id}/mandates": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/mandates`,
    valid: () => ({ intent: "fuzz", max_total: 10, max_per_call: 1, valid_until: "2099-12-31T23:59:59Z", services: ["svc-a"], tags: { team: "fuzz" } }),
  },
  "post /v1/services": {
    role: "providerA",
    path: () => "/v1/services",
    valid: () => ({
      slug: unique("fuzz"),
      name: "Fuzz",
      origin: originUrl(),
      prices: [{ per_call: 1 }],
      timeout_ms: 1_000,
      plans: [{ name: "Fuzz pass", price: 10, duration_s: 3_600, calls: 5, match: { method: "GET", path: "/v1/*" }, pass_only: true }],
    }),
  },
  "patch /v1/services/{id}": {
    role: "providerA",
    path: (w) => `/v1/services/${w.serviceA.id}`,
    valid: () => ({ name: "renamed", timeout_ms: 2_000, plans: [{ name: "Fuzz pass", price: 10, calls: 5 }] }),
  },
  "post /v1/reconciliation/repairs": { role: "operator", path: () => "/v1/reconciliation/repairs", valid: (w) => ({ account_id: w.accountA }) },
  "post /v1/refunds": { role: "providerA", path: () => "/v1/refunds", valid: (w) => ({ transfer_id: w.chargeA, amount: 1, reason: "fuzz" }) },
  "post /v1/tips": { role: "agentA", path: () => "/v1/tips", valid: (w) => ({ service_id: w.serviceA.id, amount: 1, message: "fuzz" }) },
  "post /v1/accounts/{id}/disputes": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/disputes`,
    valid: (w) => ({ transfer_id: w.undisputedChargeA, reason: "defective", detail: "fuzz" }),
  },
  "post /v1/disputes/{id}/respond": {
    role: "providerA",
    path: (w) => `/v1/disputes/${w.disputeToAnswer}/respond`,
    valid: () => ({ accept: false, evidence: "fuzz" }),
  },
  "post /v1/disputes/{id}/resolve": { role: "operator", path: (w) => `/v1/disputes/${w.disputeToResolve}/resolve`, valid: () => ({ winner: "payer" }) },
  "post /v1/providers/{id}/payouts": {
    role: "operator",
    path: (w) => `/v1/providers/${w.providerA}/payouts`,
    valid: () => ({ amount: 1, currency: "USD", reference: "fuzz" }),
  },
  "post /v1/passes": { role: "agentA", path: () => "/v1/passes", valid: (w) => ({ plan_id: w.planA, auto_renew: false }) },
  // Public (no credential needed; the operator's key is ignored). Validation answers before the
  // route, so junk is refused whether or not OPEN_SIGNUP opens it (here it does not).
  "post /v1/signup": { role: "operator", path: () => "/v1/signup", valid: () => ({ name: "fuzz", email: "fuzz@fuzz.example" }) },
  "post /v1/usage": { role: "providerA", path: () => "/v1/usage", valid: (w) => ({ request_id: `req_${w.accountA.slice(5)}_${"0".repeat(20)}`, units: 1 }) },
};

// ---------------------------------------------------------------------------------------------
// JSON texts with full control over keys (`__proto__` as an own member, repeated keys) and raw
// number tokens (1e400) that JSON.stringify cannot write
// ---------------------------------------------------------------------------------------------

class Obj {
  constructor(readonly entries: [string, J][]) {}
}
class Raw {
  constructor(readonly text: string) {}
}
type J = null | boolean | number | string | J[] | Obj | Raw;

function text(v: J): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(text).join(",")}]`;
  return JSON.stringify(v);
}

function fromPlain(v: unknown): J {
  if (Array.isArray(v)) return v.map(fromPlain);
  if (v !== null && typeof v === "object") return new Obj(Object.entries(v).map(([k, x]) => [k, fromPlain(x)]));
  return v as J;
}

const anyJson: fc.Arbitrary<J> = fc.jsonValue({ maxDepth: 2 }).map(fromPlain);

// ---------------------------------------------------------------------------------------------
// Values that a JSON schema (as /openapi.json documents it) certainly refuses
// ---------------------------------------------------------------------------------------------

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

let components: Record<string, Schema> = {};
const deref = (s: Schema): Schema => (s.$ref ? deref(components[s.$ref.split("/").pop() as string] as Schema) : s);

function typesOf(s: Schema): Set<string> | null {
  if (s.type) return new Set(Array.isArray(s.type) ? s.type : [s.type]);
  if (s.properties || s.additionalProperties !== undefined) return new Set(["object"]);
  return null; // unknown: no value is certainly wrong by type
}

const TRICKY_STRINGS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "-1",
  "0",
  "1.5",
  "1e400",
  "9007199254740993",
  "true",
  "null",
  "{}",
  "[]",
  "__proto__",
  "𝕌𝕊𝔻",
  "\u0000",
  "\u202eevil",
  "' OR 1=1 --",
  "=cmd|' /C calc'!A0",
];
const kindValues: Record<string, fc.Arbitrary<J>> = {
  string: fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom(...TRICKY_STRINGS)),
  integer: fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 53, 2 ** 53 + 2)),
  float: fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).filter((x) => !Number.isInteger(x)),
    fc.constantFrom(0.5, -1.5, 1e-7, 123.000001),
  ),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(anyJson, { maxLength: 3 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 }).map(fromPlain),
};
function kindAllowed(kind: string, types: Set<string>): boolean {
  if (kind === "integer") return types.has("integer") || types.has("number");
  if (kind === "float") return types.has("number");
  return types.has(kind);
}

const BAD_DATETIMES = [
  "",
  "tomorrow",
  "2026-12-31",
  "31/12/2026",
  "2026-12-31T25:00:00Z",
  "2026-12-31T23:59:59",
  "NaN",
  "Infinity",
  "2026-12-31T23:59:59Z junk",
  "0",
];

/** Values the schema certainly refuses, or null if none is known. */
function badValue(raw: Schema, depth = 0): fc.Arbitrary<J> | null {
  const s = deref(raw);
  const arbs: fc.Arbitrary<J>[] = [];
  const types = typesOf(s);
  if (types) for (const [kind, arb] of Object.entries(kindValues)) if (!kindAllowed(kind, types)) arbs.push(arb);
  if (types?.has("integer") || types?.has("number")) {
    const low = s.exclusiveMinimum ?? (s.minimum !== undefined ? s.minimum - 1 : undefined);
    if (low !== undefined) arbs.push(fc.integer({ min: -1_000_000, max: 0 }).map((d) => low + d));
    if (s.maximum !== undefined) {
      const max = s.maximum;
      arbs.push(fc.constantFrom<J>(new Raw("1e400"), max === Number.MAX_SAFE_INTEGER ? new Raw("9007199254740993") : max + 1, max * 2 + 1));
    }
    if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) arbs.push(fc.constant(new Raw("-1e400")));
  }
  if (types?.has("string")) {
    if ((s.minLength ?? 0) >= 1) arbs.push(fc.constant(""));
    if (s.maxLength !== undefined) {
      const n = s.maxLength;
      arbs.push(fc.constantFrom("x".repeat(n + 1), "é".repeat(n + 1), "😀".repeat(n + 1), "a".repeat(n * 10 + 1)));
    }
    if (s.pattern) {
      const re = new RegExp(s.pattern);
      arbs.push(
        fc
          .oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.constantFrom(...TRICKY_STRINGS, "usd", "US", " USD", "USD\n", "UPPER-case", "a"))
          .filter((x) => !re.test(x)),
      );
    }
    if (s.enum) arbs.push(fc.string({ maxLength: 10 }).filter((x) => !s.enum!.includes(x)));
    if (s.format === "date-time") arbs.push(fc.constantFrom(...BAD_DATETIMES));
  }
  if (types?.has("array")) {
    if ((s.minItems ?? 0) >= 1) arbs.push(fc.constant([]));
    if (s.maxItems !== undefined) arbs.push(fc.constant(Array.from({ length: s.maxItems + 1 }, () => "x")));
    const bad = s.items && depth < 3 ? badValue(s.items, depth + 1) : null;
    if (bad) arbs.push(bad.map((v) => [v]));
  }
  if (types?.has("object") && depth < 3) {
    const broken = breakObject(s, [], depth + 1);
    if (broken) arbs.push(broken);
  }
  return arbs.length > 0 ? fc.oneof(...arbs) : null;
}

const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__", "then"];

type Defect = (entries: [string, J][]) => [string, J][];

/** An object `base` made certainly invalid by one to three defects (none of which undoes another). */
function breakObject(raw: Schema, base: [string, J][], depth = 0): fc.Arbitrary<Obj> | null {
  const s = deref(raw);
  const props = s.properties ?? {};
  const defects: fc.Arbitrary<Defect>[] = [];
  if (s.additionalProperties === false) {
    const key = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 12 })).filter((k) => !Object.hasOwn(props, k));
    defects.push(
      fc.tuple(key, anyJson, fc.nat()).map(
        ([k, v, at]): Defect =>
          (e) => [...e.slice(0, at % (e.length + 1)), [k, v], ...e.slice(at % (e.length + 1))],
      ),
    );
  } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
    const bad = badValue(s.additionalProperties, depth);
    if (bad)
      defects.push(
        fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), bad).map(
          ([k, v]): Defect =>
            (e) => [...e.filter(([x]) => x !== k), [k, v]],
        ),
      );
  }
  if (s.required?.length)
    defects.push(
      fc.constantFrom(...s.required).map(
        (k): Defect =>
          (e) =>
            e.filter(([x]) => x !== k),
      ),
    );
  for (const [name, schema] of Object.entries(props)) {
    const bad = badValue(schema, depth);
    if (!bad) continue;
    defects.push(
      fc.tuple(bad, fc.boolean()).map(
        ([v, repeat]): Defect =>
          // `repeat`: the valid value stays and the bad one follows it (JSON.parse keeps the last).
          (e) =>
            repeat ? [...e, [name, v]] : e.some(([x]) => x === name) ? e.map(([x, y]) => [x, x === name ? v : y]) : [...e, [name, v]],
      ),
    );
  }
  if (defects.length === 0) return null;
  return fc.array(fc.oneof(...defects), { minLength: 1, maxLength: 3 }).map((ds) => new Obj(ds.reduce((e, d) => d(e), base)));
}

// ---------------------------------------------------------------------------------------------
// Whole requests
// ---------------------------------------------------------------------------------------------

type Junk = { kind: string; body: string | null; contentType: string | null };

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", "application/vnd.fuzz+json"];
const NOT_JSON_TYPES = [
  "text/plain",
  "text/json",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=fuzz",
  "application/xml",
  "application/jsonp",
  "application/json-seq",
  "application/octet-stream",
];
const BROKEN_JSON = [
  "",
  " ",
  "{",
  "}",
  '{"a":1,}',
  "{'a': 1}",
  "{a: 1}",
  "NaN",
  "Infinity",
  "undefined",
  '{"amount": NaN}',
  '{"amount": Infinity}',
  '{"amount": 0x10}',
  '{"amount": 01}',
  '{"amount": .5}',
  '{"amount": +1}',
  '{"a": 1} trailing',
  '{"a": 1}{"b": 2}',
  '{"a": "\\x41"}',
  '{"a": "unterminated}',
  "/* comment */ {}",
  '\uFEFF{"a": 1, }',
  '{"a":"\u0000"',
  "\u0000",
  "[1, 2",
  "nul",
  "tru",
];

function deep(depth: number, open: string, close: string, inner = "1"): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

function junkFor(schema: Schema, valid: Record<string, unknown>): fc.Arbitrary<Junk> {
  const base = (fromPlain(valid) as Obj).entries;
  const broken = breakObject(schema, base);
  if (!broken) throw new Error("no defect known for this schema");
  const props = Object.keys(deref(schema).properties ?? {});
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(broken, fc.constantFrom(...JSON_TYPES)).map(([o, ct]) => ({ kind: "defect", body: text(o), contentType: ct })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== "object" || Array.isArray(v)),
          fc.constant([valid]),
        )
        .map((v) => ({ kind: "not an object", body: JSON.stringify(v), contentType: "application/json" })),
    },
    { weight: 2, arbitrary: fc.constantFrom(...BROKEN_JSON).map((t) => ({ kind: "not JSON", body: t, contentType: "application/json" })) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom<string | null>(...NOT_JSON_TYPES, null, ""), fc.constantFrom("valid", "form")).map(([ct, what]) => ({
        kind: `content-type ${JSON.stringify(ct)}`,
        body: what === "valid" ? JSON.stringify(valid) : new URLSearchParams(Object.entries(valid).map(([k, v]) => [k, String(v)])).toString(),
        contentType: ct,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 500, max: 20_000 }), fc.constantFrom("array", "object", "member", "unknown member"), fc.constantFrom(...props))
        .map(([d, where, prop]) => {
          const nested = where === "object" ? deep(d, '{"a":', "}") : deep(d, "[", "]");
          const body =
            where === "member"
              ? text(new Obj([...base.filter(([k]) => k !== prop), [prop, new Raw(deep(d, '{"a":', "}"))]]))
              : where === "unknown member"
                ? text(new Obj([...base, ["zz_deep", new Raw(nested)]]))
                : nested;
          return { kind: `deep ${where} ×${d}`, body, contentType: "application/json" };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("long string", "many members", "long key"), fc.constantFrom(...props)).map(([what, prop]) => {
        const body =
          what === "long string"
            ? text(new Obj([...base.filter(([k]) => k !== prop), [prop, "\u00e9\u{1F600}x".repeat(100_000)]]))
            : what === "many members"
              ? text(new Obj([...base, ...Array.from({ length: 20_000 }, (_, i): [string, J] => [`k${i}`, i])]))
              : text(new Obj([...base, ["k".repeat(200_000), 1]]));
        return { kind: what, body, contentType: "application/json" };
      }),
    },
  );
}

function send(method: string, path: string, key: string, junk: Junk): Promise<Response> {
  const headers = new Headers({ authorization: `Bearer ${key}` });
  if (junk.contentType !== null) headers.set("content-type", junk.contentType);
  // Bytes, not a string: a string body would get a text/plain content type of its own.
  const body = junk.body === null ? undefined : new TextEncoder().encode(junk.body);
  return worker.default.fetch(new Request(`${GATEWAY}${path}`, { method: method.toUpperCase(), headers, body }));
}

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

let world: World;
let doc: {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
};
const statuses = new Map<string, number>();

beforeAll(async () => {
  world = await buildWorld();
  const res = await worker.default.fetch(new Request(`${GATEWAY}/openapi.json`));
  doc = await res.json();
  components = doc.components.schemas;
});

afterAll(() => {
  console.log(`[fuzz] seed=${FUZZ_SEED} runs/endpoint=${FUZZ_RUNS} statuses=${JSON.stringify(Object.fromEntries(statuses))}`);
});

function requestSchema(op: string): Schema {
  const [method, path] = op.split(" ") as [string, string];
  const schema = doc.paths[path]?.[method]?.requestBody?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${op}: no JSON request body in /openapi.json`);
  return schema;
}

describe("generated junk on every JSON endpoint → 4xx problem+json, nothing changes", () => {
  it("the table covers exactly the JSON endpoints /openapi.json documents (and the auth suite's)", () => {
    const documented: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      // /mcp speaks JSON-RPC (its errors are JSON-RPC errors, not problems): mcp-server.error.test.ts covers its bad input.
      if (path === "/mcp") continue;
      for (const [method, op] of Object.entries(item)) if (op.requestBody?.content?.["application/json"]) documented.push(`${method} ${path}`);
    }
    expect(documented.sort()).toEqual(Object.keys(ENDPOINTS).sort());
    for (const r of PROTECTED_ROUTES.filter((r) => ["POST", "PATCH", "PUT"].includes(r.method) && r.body && r.name !== "/mcp")) {
      expect(
        Object.keys(ENDPOINTS).some((op) => op.startsWith(`${r.method.toLowerCase()} ${r.name.split(" ")[0]}`)),
        r.name,
      ).toBe(true);
    }
  });

  it.each(Object.keys(ENDPOINTS))("%s documents the body it accepts", (op) => {
    // Each valid body fits the documented schema: the generator below breaks what is documented.
    const s = deref(requestSchema(op));
    const valid = ENDPOINTS[op]!.valid(world);
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

  it.each(Object.keys(ENDPOINTS))("%s", { timeout: 60_000 }, async (op) => {
    const endpoint = ENDPOINTS[op]!;
    const [method] = op.split(" ") as [string];
    const key = world.keys[endpoint.role];
    await fc.assert(
      fc.asyncProperty(junkFor(requestSchema(op), endpoint.valid(world)), async (junk) => {
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
