/**
 * Codecs for the x402 v2 HTTP headers (PAYMENT-REQUIRED, PAYMENT-SIGNATURE, PAYMENT-RESPONSE):
 * standard base64 of UTF-8 JSON. Decoding never throws: a malformed header is `null`, and the
 * caller answers with a problem, so a client's garbage changes nothing.
 */

export function encodeHeader(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function decodeHeader(header: string | null | undefined): unknown | null {
  if (!header || !/^[A-Za-z0-9+/]+={0,2}$/.test(header.trim())) return null;
  try {
    const binary = atob(header.trim());
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
}
