/**
 * The part of RFC 8941 (Structured Field Values) that signatures need: dictionaries whose members
 * are items or inner lists, with parameters; and the serialization of an inner list, which is how
 * RFC 9421 rebuilds `@signature-params`. Strict: anything malformed throws a SyntaxError.
 */

export class Token {
  constructor(readonly value: string) {}
}

export type Bytes = Uint8Array<ArrayBuffer>;
export type BareItem = number | string | boolean | Token | Bytes;
export type Params = Map<string, BareItem>;
export type Item = { value: BareItem; params: Params };
export type InnerList = { items: Item[]; params: Params };
export type Member = Item | InnerList;

export function isInnerList(m: Member): m is InnerList {
  return "items" in m;
}

/** Parses a Dictionary field value (RFC 8941 §4.2.2). A repeated key keeps its last value. */
export function parseDictionary(input: string): Map<string, Member> {
  const p = new Parser(input);
  const out = new Map<string, Member>();
  p.skip(" ");
  if (p.done()) return out;
  for (;;) {
    const key = p.key();
    if (p.peek() === "=") {
      p.pos++;
      out.set(key, p.peek() === "(" ? p.innerList() : p.item());
    } else {
      out.set(key, { value: true, params: p.params() });
    }
    p.skipOws();
    if (p.done()) return out;
    p.expect(",");
    p.skipOws();
    if (p.done()) throw new SyntaxError("trailing comma in dictionary");
  }
}

/** Serializes an inner list with its parameters (RFC 8941 §4.1.1.1). */
export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map((i) => serializeBare(i.value) + serializeParams(i.params)).join(" ")})${serializeParams(list.params)}`;
}

function serializeParams(params: Params): string {
  let out = "";
  for (const [key, value] of params) out += value === true ? `;${key}` : `;${key}=${serializeBare(value)}`;
  return out;
}

function serializeBare(v: BareItem): string {
  if (typeof v === "boolean") return v ? "?1" : "?0";
  if (typeof v === "string") return `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  if (typeof v === "number") {
    // Signature parameters are integers; a decimal would need RFC 8941's rounding rules.
    if (!Number.isSafeInteger(v)) throw new SyntaxError("only integers are serialized");
    return String(v);
  }
  if (v instanceof Token) return v.value;
  return `:${toBase64(v)}:`;
}

const KEY_FIRST = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  expect(ch: string): void {
    if (this.peek() !== ch) throw new SyntaxError(`expected '${ch}' at ${this.pos}`);
    this.pos++;
  }
  skip(ch: string): void {
    while (this.peek() === ch) this.pos++;
  }
  skipOws(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  key(): string {
    if (!KEY_FIRST.test(this.peek())) throw new SyntaxError(`expected a key at ${this.pos}`);
    const start = this.pos;
    while (KEY_CHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }

  params(): Params {
    const params: Params = new Map();
    while (this.peek() === ";") {
      this.pos++;
      this.skip(" ");
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === "=") {
        this.pos++;
        value = this.bare();
      }
      params.set(key, value);
    }
    return params;
  }

  item(): Item {
    const value = this.bare();
    return { value, params: this.params() };
  }

  innerList(): InnerList {
    this.expect("(");
    const items: Item[] = [];
    for (;;) {
      this.skip(" ");
      if (this.peek() === ")") {
        this.pos++;
        return { items, params: this.params() };
      }
      items.push(this.item());
      if (this.peek() !== " " && this.peek() !== ")") throw new SyntaxError(`expected ' ' or ')' at ${this.pos}`);
    }
  }

  bare(): BareItem {
    const c = this.peek();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    if (c === '"') return this.string();
    if (c === ":") return this.bytes();
    if (c === "?") return this.boolean();
    if (/[A-Za-z*]/.test(c)) return this.token();
    throw new SyntaxError(`unexpected '${c}' at ${this.pos}`);
  }

  number(): number {
    const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(this.s.slice(this.pos));
    if (!m || (m[2] && (m[1] as string).length > 12)) throw new SyntaxError(`bad number at ${this.pos}`);
    this.pos += m[0].length;
    // A decimal may not end in '.', and a number may not run on into more digits.
    if (/[\d.]/.test(this.peek())) throw new SyntaxError(`bad number at ${this.pos}`);
    return Number(m[0]);
  }

  string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined) throw new SyntaxError("unterminated string");
      if (c === "\\") {
        const next = this.s[this.pos++];
        if (next !== '"' && next !== "\\") throw new SyntaxError("bad escape in string");
        out += next;
      } else if (c === '"') {
        return out;
      } else if (c < " " || c > "~") {
        throw new SyntaxError("non-printable character in string");
      } else {
        out += c;
      }
    }
  }

  token(): Token {
    const start = this.pos;
    this.pos++;
    while (TOKEN_CHAR.test(this.peek())) this.pos++;
    return new Token(this.s.slice(start, this.pos));
  }

  bytes(): Bytes {
    this.expect(":");
    const end = this.s.indexOf(":", this.pos);
    if (end < 0) throw new SyntaxError("unterminated byte sequence");
    const b64 = this.s.slice(this.pos, end);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new SyntaxError("bad base64 in byte sequence");
    this.pos = end + 1;
    return fromBase64(b64);
  }

  boolean(): boolean {
    this.expect("?");
    const c = this.s[this.pos++];
    if (c === "1") return true;
    if (c === "0") return false;
    throw new SyntaxError("bad boolean");
  }
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(b64: string): Bytes {
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
