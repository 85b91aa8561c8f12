/**
 * Test-only Ed25519 signing keys (public in this repository: never use them anywhere else).
 * The workers tests bind `SIGNING_KEYS` to both (vitest.config.mts): `test-a` signs, `test-b` is
 * published too, as during a rotation. `test-z` is never published.
 */
export const TEST_KEY_A = {
  kid: "test-a",
  kty: "OKP",
  crv: "Ed25519",
  x: "V6CxRND1xTnKvcTGFLW0jPlKxsiNDvhKgZKZoJR9wB4",
  d: "NWA6QHWzvZUM04-Ihb01NTIyMFDmcQ-RXX0nXCn7VdQ",
} as const;
export const TEST_KEY_B = {
  kid: "test-b",
  kty: "OKP",
  crv: "Ed25519",
  x: "SH1j8WAqJuUIiemr_1XHKqWi4XTBGTZCcAmggMo-Y2o",
  d: "-NAL8-WnqGJKfq3YBe2pVeUGivWY-k9mZfEP931hz5w",
} as const;
export const TEST_KEY_UNPUBLISHED = {
  kid: "test-z",
  kty: "OKP",
  crv: "Ed25519",
  x: "6WVgsBZSLgzsBhAljlTx32wWFK26lCr1ZE7RBiOuBKA",
  d: "6os7nGyHUqSQfQ1XpNP7VHk61p_0s4AxAFe1Gxk2V18",
} as const;

/** The `SIGNING_KEYS` secret of the test gateway. */
export const TEST_SIGNING_KEYS = JSON.stringify([TEST_KEY_A, TEST_KEY_B]);
