#!/usr/bin/env node
// Prints a new Ed25519 signing key as a private JWK, for the SIGNING_KEYS secret:
//   node scripts/signing-key.mjs [kid]          (kid defaults to tg-YYYY-MM-DD-xxxx)
// SIGNING_KEYS is a JSON array of these; the first signs, all are published. Rotation:
//   1. [old, new]  publish the new key (origins pick it up within minutes);
//   2. [new, old]  the new key signs; signatures in flight by the old one still verify;
//   3. [new]       after a few minutes (signatures live 60 s), retire the old key.
// Set it with: npx wrangler secret put SIGNING_KEYS   (paste the JSON array)
const kid = process.argv[2] ?? `tg-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 6)}`;
if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
  console.error("kid: 1 to 64 of A-Z a-z 0-9 . _ -");
  process.exit(1);
}
const { privateKey } = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
const { x, d } = await crypto.subtle.exportKey("jwk", privateKey);
console.log(JSON.stringify({ kid, kty: "OKP", crv: "Ed25519", x, d }));
