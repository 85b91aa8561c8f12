import { type DashContext, providerId, signedIn } from "../../context";
import { money, when } from "../../format";
import { Layout } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote } from "../../api-errors";
import { BalanceTable } from "./balance";

const PATH = "/dashboard/provider/payouts";

type Payout = { id: string; amount: number; currency: string; reference: string | null; created_at: string };

/** The balance and the operator's payouts to the provider (GET /v1/providers/{id}/payouts). */
export async function payoutsPage(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = providerId(session);
  const [balance, payouts] = await Promise.all([api.get(`/v1/providers/${id}/balance`), api.get(`/v1/providers/${id}/payouts?limit=100`)]);
  return page(
    c,
    <Layout title="Payouts" session={session} path={PATH}>
      <section aria-labelledby="balance-h" data-testid="balance">
        <h2 id="balance-h">Balance</h2>
        <p>Pending earnings become available after the payout delay; the operator pays out from what is available.</p>
        {balance.ok ? <BalanceTable balances={balance.body.balances} /> : <ApiErrorNote result={balance} />}
      </section>
      <section aria-labelledby="payouts-h">
        <h2 id="payouts-h">Payouts</h2>
        {payouts.ok ? (
          <table data-testid="payouts">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Reference</th>
                <th scope="col" class="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {payouts.body.data.length === 0 && (
                <tr>
                  <td colspan={3}>No payouts yet.</td>
                </tr>
              )}
              {(payouts.body.data as Payout[]).map((p) => (
                <tr data-payout-id={p.id}>
                  <td>{when(p.created_at)}</td>
                  <td>{p.reference ?? ""}</td>
                  <td class="num">{money(p.amount, p.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={payouts} />
        )}
      </section>
    </Layout>,
  );
}
