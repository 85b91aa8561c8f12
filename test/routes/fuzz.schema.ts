import fc from "fast-check";
import { anyJson, fromPlain, type J, Obj, Raw } from "./fuzz.json";

// ---------------------------------------------------------------------------------------------
// Values that a JSON schema (as /openapi.json documents it) certainly refuses
// ---------------------------------------------------------------------------------------------

export type Schema = {
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
/** The `components.schemas` of /openapi.json, which `$ref`s name. */
export function setComponents(schemas: Record<string, Schema>): void {
  components = schemas;
}
export const deref = (s: Schema): Schema => (s.$ref ? deref(components[s.$ref.split("/").pop() as string] as Schema) : s);

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
export function breakObject(raw: Schema, base: [string, J][], depth = 0): fc.Arbitrary<Obj> | null {
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
