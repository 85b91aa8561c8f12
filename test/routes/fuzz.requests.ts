import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { fromPlain, type J, Obj, Raw, text } from "./fuzz.json";
import { breakObject, deref, type Schema } from "./fuzz.schema";
import { GATEWAY } from "./helpers";

export const worker = exports as unknown as { default: { fetch(request: Request): Promise<Response> } };

// ---------------------------------------------------------------------------------------------
// Whole requests
// ---------------------------------------------------------------------------------------------

export type Junk = { kind: string; body: string | null; contentType: string | null };

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

export function junkFor(schema: Schema, valid: Record<string, unknown>): fc.Arbitrary<Junk> {
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

export function send(method: string, path: string, key: string, junk: Junk): Promise<Response> {
  const headers = new Headers({ authorization: `Bearer ${key}` });
  if (junk.contentType !== null) headers.set("content-type", junk.contentType);
  // Bytes, not a string: a string body would get a text/plain content type of its own.
  const body = junk.body === null ? undefined : new TextEncoder().encode(junk.body);
  return worker.default.fetch(new Request(`${GATEWAY}${path}`, { method: method.toUpperCase(), headers, body }));
}
