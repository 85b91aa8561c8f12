/** The JSON API's objects as the dashboard's pages read them (the routes' own response shapes). */

/** A dispute (GET /v1/accounts/{id}/disputes, GET /v1/disputes). */
export type Dispute = {
  id: string;
  account_id: string;
  transfer_id: string;
  service_id: string | null;
  reason: string;
  detail: string | null;
  amount: number;
  compensated: number;
  currency: string;
  status: string;
  evidence: string | null;
  created_at: string;
  resolved_at: string | null;
};
