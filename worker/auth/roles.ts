/** Who a request acts as, once `authenticate` has verified its credential. */
export type Principal =
  | { role: "operator" }
  | { role: "provider"; providerId: string }
  | { role: "owner"; accountId: string }
  | { role: "agent"; accountId: string; keyHash: string };
