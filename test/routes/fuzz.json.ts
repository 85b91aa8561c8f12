import fc from "fast-check";

// ---------------------------------------------------------------------------------------------
// JSON texts with full control over keys (`__proto__` as an own member, repeated keys) and raw
// number tokens (1e400) that JSON.stringify cannot write
// ---------------------------------------------------------------------------------------------

export class Obj {
  constructor(readonly entries: [string, J][]) {}
}
export class Raw {
  constructor(readonly text: string) {}
}
export type J = null | boolean | number | string | J[] | Obj | Raw;

export function text(v: J): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(text).join(",")}]`;
  return JSON.stringify(v);
}

export function fromPlain(v: unknown): J {
  if (Array.isArray(v)) return v.map(fromPlain);
  if (v !== null && typeof v === "object") return new Obj(Object.entries(v).map(([k, x]) => [k, fromPlain(x)]));
  return v as J;
}

export const anyJson: fc.Arbitrary<J> = fc.jsonValue({ maxDepth: 2 }).map(fromPlain);
