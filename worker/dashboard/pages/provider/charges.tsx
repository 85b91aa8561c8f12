import type { Session } from "../../session";
import { money, when } from "../../format";
import { PostForm } from "../../layout";
import { type Charge, providerNet, usageText } from "./earnings";

/**
 * Settled charges with their usage, and a refund form on each charge (the API refuses what is
 * not refundable: another provider's charge, more than is left). `back` is where the form returns.
 */
export function ChargesTable({ session, charges, names, back }: { session: Session; charges: Charge[]; names: Map<string, string>; back: string }) {
  return (
    <table data-testid="charges">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Service</th>
          <th scope="col">Kind</th>
          <th scope="col">Usage</th>
          <th scope="col" class="num">
            Amount
          </th>
          <th scope="col" class="num">
            Fee
          </th>
          <th scope="col" class="num">
            You earn
          </th>
          <th scope="col">Refund</th>
        </tr>
      </thead>
      <tbody>
        {charges.length === 0 && (
          <tr>
            <td colspan={8}>No charges yet.</td>
          </tr>
        )}
        {charges.map((t) => (
          <tr data-transfer-id={t.id} data-kind={t.kind}>
            <td>{when(t.created_at)}</td>
            <td>{t.service_id ? (names.get(t.service_id) ?? t.service_id) : "—"}</td>
            <td>
              {t.kind}
              <div>
                <small>{t.id}</small>
              </div>
            </td>
            <td>
              {usageText(t.usage)}
              {t.shortfall > 0 && <div>{`shortfall ${money(t.shortfall, t.currency)}`}</div>}
            </td>
            <td class="num" data-amount={t.amount}>
              {money(t.amount, t.currency)}
            </td>
            <td class="num">{money(t.fee, t.currency)}</td>
            <td class="num">{money(providerNet(t), t.currency)}</td>
            <td>
              {t.kind === "capture" && (
                <PostForm session={session} action="/dashboard/provider/refunds" class="inline" label={`Refund ${t.id}`}>
                  <input type="hidden" name="transfer_id" value={t.id} />
                  <input type="hidden" name="back" value={back} />
                  <label class="visually-hidden" for={`refund-amount-${t.id}`}>{`Amount to refund of ${t.id} (blank: all)`}</label>
                  <input id={`refund-amount-${t.id}`} name="amount" inputmode="decimal" size={8} placeholder="all" />
                  <label class="visually-hidden" for={`refund-reason-${t.id}`}>{`Reason for refunding ${t.id}`}</label>
                  <input id={`refund-reason-${t.id}`} name="reason" size={12} placeholder="reason" maxlength={200} />
                  <button type="submit">Refund</button>
                </PostForm>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
