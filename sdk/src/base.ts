import type { MessageView } from "./message.js";
import { type InnerList, serializeInnerList } from "./structured.js";

/** A covered component this verifier cannot derive (or a field the request lacks). */
export class ComponentError extends Error {
  override readonly name = "ComponentError";
}

/**
 * The RFC 9421 §2.5 signature base for a request: one `"name": value` line per covered
 * component, then `"@signature-params"`. `authority` overrides the URL's host (an origin behind a
 * proxy that rewrites `Host` knows its public name better than the request does).
 */
export function signatureBase(message: MessageView, input: InnerList, authority?: string): string {
  const lines: string[] = [];
  for (const item of input.items) {
    if (typeof item.value !== "string" || item.params.size > 0) throw new ComponentError("only plain component names are supported");
    const name = item.value;
    lines.push(`"${name}": ${componentValue(message, name, authority)}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join("\n");
}

function componentValue(message: MessageView, name: string, authority?: string): string {
  switch (name) {
    case "@method":
      // Case-sensitive, as sent (RFC 9421 §2.2.1).
      return message.method;
    case "@authority":
      return (authority ?? message.url.host).toLowerCase();
    case "@path":
      return message.url.pathname || "/";
    case "@query":
      // No query at all and an empty one are both "?" (RFC 9421 §2.2.7).
      return message.url.search || "?";
    default: {
      if (name.startsWith("@")) throw new ComponentError(`unsupported derived component ${name}`);
      if (name !== name.toLowerCase()) throw new ComponentError(`field names are covered in lower case: ${name}`);
      const value = message.header(name);
      if (value === null) throw new ComponentError(`the covered field ${name} is missing`);
      // Obsolete line folding would let one field's value forge a line of the base.
      if (/[\r\n]/.test(value)) throw new ComponentError(`the covered field ${name} holds a line break`);
      return value.trim();
    }
  }
}
