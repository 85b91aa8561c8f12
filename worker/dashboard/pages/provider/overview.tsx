import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BarChart } from "../../chart";
import { type DashContext, providerId, signedIn } from "../../context";
import { money } from "../../format";
import { Layout, type Message } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote } from "../../api-errors";
import { BalanceTable } from "./balance";
import { ChargesTable } from "./charges";
import { MAX_CHARGES, providerCharges, providerServices } from "./data";
import { earningsByDay, earningsByService } from "./earnings";
import { noticeOf } from "../../notices";

export const PATH = "/dashboard/provider";
const DAYS = 30;
const RECENT = 25;

/** The provider's home: balance, earnings by day and by service, the latest charges. */
export async function providerOverview(c: DashContext, message: Message = null, status: ContentfulStatusCode = 200): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = providerId(session);
  const [balance, services] = await Promise.all([api.get(`/v1/providers/${id}/balance`), providerServices(api)]);
  const charges = services.ok ? await providerCharges(api, services.data) : null;
  const names = new Map(services.ok ? services.data.map((s) => [s.id, s.name]) : []);
  // One chart per currency the provider's services charge in.
  const currencies = services.ok ? [...new Set(services.data.map((s) => s.currency))].sort() : [];
  return page(
    c,
    <Layout title="Provider overview" session={session} path={PATH} message={message ?? noticeOf(c)}>
      <section aria-labelledby="balance-h" data-testid="balance">
        <h2 id="balance-h">Balance</h2>
        {balance.ok ? <BalanceTable balances={balance.body.balances} /> : <ApiErrorNote result={balance} />}
      </section>
      {services.ok && services.data.length === 0 && (
        <section>
          <p>
            You have no service yet. <a href="/dashboard/provider/services/new">Create a service</a>.
          </p>
        </section>
      )}
      {charges && !charges.ok && <ApiErrorNote result={charges.result} />}
      {charges?.ok &&
        currencies.map((currency) => {
          const byDay = earningsByDay(charges.data, currency, DAYS);
          const byService = earningsByService(charges.data, services.ok ? services.data : [], currency);
          const total = byDay.reduce((sum, p) => sum + p.value, 0);
          const fmt = (v: number) => money(v, currency);
          return (
            <section aria-label={`Earnings in ${currency}`} data-currency={currency}>
              <h2>{`Earnings, last ${DAYS} days (${currency})`}</h2>
              <p class="stat">
                Earned (charges less fees) <b data-testid={`earned-${currency}`}>{fmt(total)}</b>
              </p>
              <BarChart title={`Earnings by day, ${currency}`} points={byDay} format={fmt} />
              <h2>{`Earnings by service (${currency})`}</h2>
              <p>
                <small>From each service's latest {MAX_CHARGES} settled charges; the monthly statement has the full figures.</small>
              </p>
              <table data-testid={`by-service-${currency}`}>
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col" class="num">
                      Earned
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {byService.length === 0 && (
                    <tr>
                      <td colspan={2}>No charges yet.</td>
                    </tr>
                  )}
                  {byService.map((p) => (
                    <tr>
                      <td>{p.label}</td>
                      <td class="num">{fmt(p.value)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          );
        })}
      {charges?.ok && (
        <section aria-labelledby="recent-h">
          <h2 id="recent-h">Recent charges</h2>
          <p>Charges settle about a second after the call. Refund a charge in part (type an amount) or in full (leave it blank).</p>
          <ChargesTable session={session} charges={charges.data.slice(0, RECENT)} names={names} back={PATH} />
        </section>
      )}
    </Layout>,
    status,
  );
}
