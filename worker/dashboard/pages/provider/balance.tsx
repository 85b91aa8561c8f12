import { money } from "../../format";

export type Balance = { currency: string; pending: number; available: number; paid_out: number };

/** Pending / available / paid out, one row per currency (GET /v1/providers/{id}/balance). */
export function BalanceTable({ balances }: { balances: Balance[] }) {
  if (balances.length === 0) return <p>No earnings yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Currency</th>
          <th scope="col" class="num">
            Pending
          </th>
          <th scope="col" class="num">
            Available
          </th>
          <th scope="col" class="num">
            Paid out
          </th>
        </tr>
      </thead>
      <tbody>
        {balances.map((b) => (
          <tr data-currency={b.currency}>
            <td>{b.currency}</td>
            <td class="num" data-field="pending">
              {money(b.pending, b.currency)}
            </td>
            <td class="num" data-field="available">
              {money(b.available, b.currency)}
            </td>
            <td class="num" data-field="paid_out">
              {money(b.paid_out, b.currency)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
