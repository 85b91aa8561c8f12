import { type DashContext, ownerAccount, signedIn } from "../../context";
import { Layout } from "../../layout";
import { notFoundPage, page } from "../../render";
import { ApiErrorNote } from "../../api-errors";

const PATH = "/dashboard/owner/invoices";
const FILE = /^(\d{4}-(?:0[1-9]|1[0-2]))\.(html|csv)$/;

/** Every UTC month from the account's opening to now, newest first (at most 36). */
function monthsSince(createdAt: string, now = new Date()): string[] {
  const start = new Date(createdAt);
  const out: string[] = [];
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  while (out.length < 36 && d.getTime() >= Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1)) {
    out.push(d.toISOString().slice(0, 7));
    d.setUTCMonth(d.getUTCMonth() - 1);
  }
  return out;
}

export async function invoicesPage(c: DashContext): Promise<Response> {
  const { session, api } = signedIn(c);
  const account = await api.get(`/v1/accounts/${ownerAccount(session)}`);
  return page(
    c,
    <Layout title="Monthly invoices" session={session} path={PATH}>
      <section>
        {account.ok ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Month (UTC)</th>
                <th scope="col">Printable</th>
                <th scope="col">Spreadsheet</th>
              </tr>
            </thead>
            <tbody>
              {monthsSince(account.body.created_at).map((m) => (
                <tr>
                  <td>{m}</td>
                  <td>
                    <a href={`/dashboard/invoices/${m}.html`}>{`Invoice ${m} (HTML)`}</a>
                  </td>
                  <td>
                    <a href={`/dashboard/invoices/${m}.csv`}>{`Invoice ${m} (CSV)`}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <ApiErrorNote result={account} />
        )}
      </section>
    </Layout>,
  );
}

/**
 * An invoice document through the session: the API's invoice route (which wants a bearer key),
 * called as the signed-in owner, its body and type passed through unchanged.
 */
export async function invoiceFile(c: DashContext): Promise<Response> {
  const m = FILE.exec(c.req.param("file") ?? "");
  if (!m) return notFoundPage(c);
  const [, month, format] = m;
  const { session, api } = signedIn(c);
  const res = await api.get(`/v1/accounts/${ownerAccount(session)}/invoices/${month}?format=${format}`);
  if (!res.ok) return notFoundPage(c);
  const headers: Record<string, string> = { "content-type": res.contentType };
  if (format === "csv") headers["content-disposition"] = `attachment; filename="invoice-${month}.csv"`;
  return new Response(res.text, { status: 200, headers });
}
