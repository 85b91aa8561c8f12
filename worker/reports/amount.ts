import { MAX_AMOUNT } from "../../core/pricing/amount";
import { ApiError } from "../errors";

/**
 * A BigInt amount as the JSON number an answer carries. Past 2^53 − 1 no number is exact, and a
 * rounded total is a wrong total, so the request fails (422 amount_out_of_range) naming the exact
 * value instead.
 */
export function toAmount(value: bigint, what: string, hint = ""): number {
  if (value <= BigInt(MAX_AMOUNT) && value >= -BigInt(MAX_AMOUNT)) return Number(value);
  throw new ApiError("amount_out_of_range", `${what} is ${value}, past 2^53 − 1, the largest amount a JSON number carries exactly.${hint ? ` ${hint}` : ""}`);
}
