/**
 * The `tollgate` payment method for the `mppx` client (Machine Payments Protocol): it answers a
 * Tollgate `WWW-Authenticate: Payment method="tollgate"` challenge with the agent key, and the
 * gateway charges the call exactly like a keyed call. `mppx` is an optional peer dependency:
 * import this module only where `mppx` is installed.
 *
 *   const mppx = Mppx.create({ methods: [tollgateMpp({ key })], polyfill: false });
 *   const res = await mppx.fetch("https://gateway.example/s/search/q?text=hi");
 */
import { Credential, Method, z } from "mppx";

/** The method as both sides name it: a charge paid from a prepaid Tollgate account. */
export const tollgateCharge = Method.from({
  name: "tollgate",
  intent: "charge",
  schema: {
    credential: { payload: z.object({ key: z.string() }) },
    request: z.object({ amount: z.string(), currency: z.string(), recipient: z.string(), offer: z.string() }),
  },
});

export type TollgateMppOptions = {
  /** The Tollgate agent key that pays. */
  key: string;
  /** The most one call may cost, in micro-units; a dearer offer is refused here, before paying. */
  maxAmount?: number;
};

/** The client side of the method, for `Mppx.create({ methods: [...] })`. */
export function tollgateMpp(options: TollgateMppOptions) {
  return Method.toClient(tollgateCharge, {
    async createCredential({ challenge }) {
      const amount = Number(challenge.request.amount);
      if (options.maxAmount !== undefined && !(amount <= options.maxAmount)) {
        throw new Error(`Tollgate offer of ${challenge.request.amount} is above maxAmount ${options.maxAmount}`);
      }
      return Credential.serialize({ challenge, payload: { key: options.key } });
    },
  });
}
