/**
 * The rules a mandate puts on a hold, as a pure function of the mandate, the call and what the
 * mandate has spent or holds so far. The AccountLedger calls it inside the reserve transaction,
 * so racing calls see each other's holds and cannot overrun a cap together.
 */
export type MandateLimits = {
  valid_from: number;
  valid_until: number;
  revoked_at: number | null;
  max_total: number;
  max_per_call: number;
  max_per_day: number | null;
  /** Allowed service slugs; null means any service. */
  services: string[] | null;
};

export type MandateUse = {
  /** Captured plus pending under the mandate, all time. */
  total: number;
  /** Captured plus pending under the mandate on the call's UTC day. */
  today: number;
};

export type MandateViolation =
  | "mandate_revoked"
  | "mandate_not_started"
  | "mandate_expired"
  | "mandate_service_not_allowed"
  | "mandate_per_call_exceeded"
  | "mandate_exceeded";

export function checkMandate(m: MandateLimits, call: { now: number; serviceSlug: string; amount: number }, used: MandateUse): MandateViolation | null {
  if (m.revoked_at !== null && m.revoked_at <= call.now) return "mandate_revoked";
  if (call.now < m.valid_from) return "mandate_not_started";
  if (call.now > m.valid_until) return "mandate_expired";
  if (m.services !== null && !m.services.includes(call.serviceSlug)) return "mandate_service_not_allowed";
  if (call.amount > m.max_per_call) return "mandate_per_call_exceeded";
  if (used.total + call.amount > m.max_total) return "mandate_exceeded";
  if (m.max_per_day !== null && used.today + call.amount > m.max_per_day) return "mandate_exceeded";
  return null;
}

/** The UTC day (`YYYY-MM-DD`) a time falls on: daily caps reset at midnight UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
