import { type DashContext, providerId, signedIn } from "../../context";
import { money, thisMonth } from "../../format";
import { Layout } from "../../layout";
import { notFoundPage, page } from "../../render";
import { ApiErrorNote } from "../../api-errors";

const PATH = "/dashboard/provider/statements";
const FILE = /^(\d{4}-(?:0[1-9]|1[0-2]))(\.csv)?$/;

type StatementCurrency = {
  currency: string;
  opening_balance: number;
  services: { service_id: string | null; name: string | null; calls: number; passes_sold: number; units: number; gross: number; fees: number; net: number }[];
  refunds: number;
  disputes: number;
  tips: number;
  payouts: number;
  closing_balance: number;
};

/** The last twelve UTC months, newest first. */
function lastMonths(now = new Date()): string[] {
  const out: string[] = [];
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  for (let i = 0; i < 12; i++) {
    out.push(d.toISOString().slice(0, 7));
    d.setUTCMonth(d.getUTCMonth() - 1);
  }
  return out;
}

/** The month chooser, and the chosen month's statement (GET /v1/providers/{id}/statements/{month}). */
export async function statementsPage(c: DashContext): Promise<Response> {
  const { session } = signedIn(c);
  return page(
    c,
    <Layout title="Monthly statements" session={session} path={PATH}>
      <section>
        <table>
          <thead>
            <tr>
              <th scope="col">Month (UTC)</th>
              <th scope="col">View</th>
              <th scope="col">Spreadsheet</th>
            </tr>
          </thead>
          <tbody>
            {lastMonths().map((m) => (
              <tr>
                <td>{m}</td>
                <td>
                  <a href={`${PATH}/${m}`}>{`Statement ${m}`}</a>
                </td>
                <td>
                  <a href={`${PATH}/${m}.csv`}>{`Statement ${m} (CSV)`}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>,
  );
}

/** One month: shown as a page, or its CSV passed through from the API (same bytes, a download). */
export async function statementFile(c: DashContext): Promise<Response> {
  const m = FILE.exec(c.req.param("file") ?? "");
  if (!m) return notFoundPage(c);
  const [, month, csv] = m;
  const { session, api } = signedIn(c);
  const path = `/v1/providers/${providerId(session)}/statements/${month}`;
  if (csv) {
    const res = await api.get(`${path}?format=csv`);
    if (!res.ok) return notFoundPage(c);
    return new Response(res.text, {
      status: 200,
      headers: { "content-type": res.contentType, "content-disposition": `attachment; filename="statement-${month}.csv"` },
    });
  }
  const res = await api.get(path);
  return page(
    c,
    <Layout title={`Statement ${month}`} session={session} path={PATH}>
      {!res.ok && <ApiErrorNote result={res} />}
      {res.ok && (
        <>
          <p>
            {res.body.final
              ? "Final: the month is closed."
              : `Not final yet${month === thisMonth() ? ": the month is still running" : ""}; figures may change.`}{" "}
            <a href={`${PATH}/${month}.csv`}>Download CSV</a>
          </p>
          {res.body.currencies.length === 0 && <p>Nothing in this month.</p>}
          {(res.body.currencies as StatementCurrency[]).map((cur) => {
            const fmt = (v: number) => money(v, cur.currency);
            return (
              <section aria-label={`Statement in ${cur.currency}`} data-currency={cur.currency}>
                <h2>{cur.currency}</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Service</th>
                      <th scope="col" class="num">
                        Calls
                      </th>
                      <th scope="col" class="num">
                        Passes sold
                      </th>
                      <th scope="col" class="num">
                        Gross
                      </th>
                      <th scope="col" class="num">
                        Fees
                      </th>
                      <th scope="col" class="num">
                        Net
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {cur.services.map((s) => (
                      <tr>
                        <td>{s.name ?? s.service_id ?? "—"}</td>
                        <td class="num">{s.calls}</td>
                        <td class="num">{s.passes_sold}</td>
                        <td class="num">{fmt(s.gross)}</td>
                        <td class="num">{fmt(s.fees)}</td>
                        <td class="num">{fmt(s.net)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <table>
                  <tbody>
                    {(
                      [
                        ["Opening balance", cur.opening_balance],
                        ["Refunds", cur.refunds],
                        ["Disputes", cur.disputes],
                        ["Tips", cur.tips],
                        ["Payouts", cur.payouts],
                        ["Closing balance", cur.closing_balance],
                      ] as const
                    ).map(([label, v]) => (
                      <tr>
                        <th scope="row">{label}</th>
                        <td class="num">{fmt(v)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            );
          })}
        </>
      )}
    </Layout>,
    res.ok ? 200 : res.status === 404 ? 404 : 400,
  );
}
