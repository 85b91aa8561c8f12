import { BarChart, type Point } from "../../chart";
import { type DashContext, ownerAccount, signedIn } from "../../context";
import { money, when } from "../../format";
import { Layout } from "../../layout";
import { page } from "../../render";
import { ApiErrorNote, apiErrorText } from "../../api-errors";

const DAY_MS = 86_400_000;

/** Every UTC day of the last `days`, oldest first, with the report's amount or 0. */
function dailySeries(groups: { key: string | null; amount: number }[], days: number, now = Date.now()): Point[] {
  const byDay = new Map(groups.map((g) => [g.key, g.amount]));
  const out: Point[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(now - i * DAY_MS).toISOString().slice(0, 10);
    out.push({ label: day.slice(5), value: byDay.get(day) ?? 0 });
  }
  return out;
}

type Group = { key: string | null; calls: number; amount: number; fee: number };

function GroupTable({ caption, keyHeader, groups, currency }: { caption: string; keyHeader: string; groups: Group[]; currency: string }) {
  return (
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{keyHeader}</th>
          <th scope="col" class="num">
            Calls
          </th>
          <th scope="col" class="num">
            Spent
          </th>
        </tr>
      </thead>
      <tbody>
        {groups.length === 0 && (
          <tr>
            <td colspan={3}>No charges in the last 30 days.</td>
          </tr>
        )}
        {groups.map((g) => (
          <tr>
            <td>{g.key ?? "(untagged)"}</td>
            <td class="num">{g.calls}</td>
            <td class="num">{money(g.amount, currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Balance, top-ups, and the last 30 days of spend by day, by service and by one cost tag. */
export async function overviewPage(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const id = ownerAccount(session);
  const tagAsked = c.req.query("tag")?.trim();
  const [account, balance, byDay, byService, journal] = await Promise.all([
    api.get(`/v1/accounts/${id}`),
    api.get(`/v1/accounts/${id}/balance`),
    api.get(`/v1/accounts/${id}/usage?group_by=day`),
    api.get(`/v1/accounts/${id}/usage?group_by=service`),
    api.get(`/v1/accounts/${id}/transfers?limit=100`),
  ]);
  const transfers: { kind: string; amount: number; reference: string | null; created_at: string; id: string; tags: Record<string, string> | null }[] =
    journal.ok ? journal.body.data : [];
  // The tag to group by: the one asked for, else the first tag name seen on a recent charge.
  const tagName = tagAsked || transfers.flatMap((t) => Object.keys(t.tags ?? {}))[0] || "";
  const byTag = tagName ? await api.get(`/v1/accounts/${id}/usage?group_by=${encodeURIComponent(`tag:${tagName}`)}`) : null;
  const currency: string = balance.ok ? balance.body.currency : "";
  const credits = transfers.filter((t) => t.kind === "credit" || t.kind === "refund" || t.kind === "compensation");
  const days = byDay.ok ? dailySeries(byDay.body.groups, 30) : [];

  return page(
    c,
    <Layout title={account.ok ? `Account: ${account.body.name}` : "Account"} session={session} path="/dashboard/owner">
      <section aria-labelledby="balance-h">
        <h2 id="balance-h">Balance</h2>
        {balance.ok ? (
          <div data-testid="balance">
            <span class="stat">
              Available <b data-amount={balance.body.available}>{money(balance.body.available, currency)}</b>
            </span>
            <span class="stat">
              Posted <b>{money(balance.body.posted, currency)}</b>
            </span>
            <span class="stat">
              Held for calls in flight <b>{money(balance.body.pending, currency)}</b>
            </span>
          </div>
        ) : (
          <ApiErrorNote result={balance} />
        )}
        <p>Account id: {id}</p>
      </section>

      <section aria-labelledby="spend-h">
        <h2 id="spend-h">Spend by day (last 30 days, UTC)</h2>
        {byDay.ok ? <BarChart title="Spend by day" points={days} format={(v) => money(v, currency)} /> : <ApiErrorNote result={byDay} />}
        {byDay.ok && byDay.body.total && (
          <p data-testid="spend-total">
            Total: {money(byDay.body.total.amount, currency)} over {byDay.body.total.calls} calls.
          </p>
        )}
      </section>

      <section aria-labelledby="service-h">
        <h2 id="service-h">Spend by service</h2>
        {byService.ok ? (
          <GroupTable caption="Spend by service" keyHeader="Service" groups={byService.body.groups} currency={currency} />
        ) : (
          <ApiErrorNote result={byService} />
        )}
      </section>

      <section aria-labelledby="tag-h">
        <h2 id="tag-h">Spend by cost tag</h2>
        <form method="get" action="/dashboard/owner" class="stack">
          <label for="tag">Tag name</label>
          <input id="tag" name="tag" value={tagName} placeholder="team" />
          <button type="submit">Group by this tag</button>
        </form>
        {byTag === null ? (
          <p>No recent charge carries a cost tag.</p>
        ) : byTag.ok ? (
          <GroupTable caption={`Spend by tag ${tagName}`} keyHeader={`Tag: ${tagName}`} groups={byTag.body.groups} currency={currency} />
        ) : (
          <p class="error">{apiErrorText(byTag)}</p>
        )}
      </section>

      <section aria-labelledby="credits-h">
        <h2 id="credits-h">Top-ups and credits (recent)</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Kind</th>
              <th scope="col">Reference</th>
              <th scope="col" class="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {credits.length === 0 && (
              <tr>
                <td colspan={4}>None yet.</td>
              </tr>
            )}
            {credits.map((t) => (
              <tr>
                <td>{when(t.created_at)}</td>
                <td>{t.kind}</td>
                <td>{t.reference ?? ""}</td>
                <td class="num">{money(t.amount, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>,
  );
}
