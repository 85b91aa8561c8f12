import { describe, expect, it } from "vitest";
import { ApiError } from "../../worker/errors";
import { callLedger, isOverloaded, isRetryable, OVERLOADED_RETRY_AFTER_S } from "../../worker/account-client/failures";

/** An Error shaped like the ones workerd throws from a Durable Object RPC. */
function doError(flags: { retryable?: boolean; overloaded?: boolean; remote?: boolean }): Error {
  return Object.assign(new Error("Durable Object error"), flags);
}

type Outcome = Error | string;

/** A fake stub whose `reserve` plays the given outcomes; `made` counts stubs, `calls` RPCs. */
function fakes(...outcomes: Outcome[]) {
  const log = { made: 0, calls: [] as number[] };
  const make = () => {
    const id = ++log.made;
    return {
      id,
      async reserve(): Promise<string> {
        log.calls.push(id);
        const next = outcomes.shift();
        if (next === undefined) throw new Error("no more outcomes");
        if (next instanceof Error) throw next;
        return next;
      },
    };
  };
  return { log, first: make(), fresh: make };
}

async function run(retry: boolean, ...outcomes: Outcome[]) {
  const { log, first, fresh } = fakes(...outcomes);
  const promise = callLedger(first, fresh, (s) => s.reserve(), { retry, headers: { "tollgate-request-id": "req_x" }, what: "reserve" });
  return {
    log,
    result: await promise.then(
      (r) => ({ ok: true as const, value: r.value, stub: r.stub.id }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
  };
}

function problemOf(r: Awaited<ReturnType<typeof run>>["result"]): ApiError {
  if (r.ok) throw new Error("expected a failure");
  expect(r.err).toBeInstanceOf(ApiError);
  return r.err as ApiError;
}

describe("callLedger: DO RPC failures", () => {
  it("success: one call on the first stub", async () => {
    const { log, result } = await run(true, "held");
    expect(result).toEqual({ ok: true, value: "held", stub: 1 });
    expect(log).toEqual({ made: 1, calls: [1] });
  });

  it("overloaded → 429 rate_limited with Retry-After, never retried (even when idempotent)", async () => {
    for (const retry of [true, false]) {
      const { log, result } = await run(retry, doError({ overloaded: true }), "held");
      const err = problemOf(result);
      expect(err.code).toBe("rate_limited");
      expect(err.status).toBe(429);
      expect(err.headers).toEqual({ "tollgate-request-id": "req_x", "retry-after": String(OVERLOADED_RETRY_AFTER_S) });
      expect(err.extra).toEqual({ retry_after: OVERLOADED_RETRY_AFTER_S });
      expect(log).toEqual({ made: 1, calls: [1] });
    }
  });

  it("overloaded and retryable together: overloaded wins, no retry", async () => {
    const { log, result } = await run(true, doError({ overloaded: true, retryable: true }), "held");
    expect(problemOf(result).code).toBe("rate_limited");
    expect(log.calls).toEqual([1]);
  });

  it("retryable on an idempotent call → retried once, on a new stub, which is returned", async () => {
    const { log, result } = await run(true, doError({ retryable: true }), "held");
    expect(result).toEqual({ ok: true, value: "held", stub: 2 });
    expect(log).toEqual({ made: 2, calls: [1, 2] });
  });

  it("retryable twice → 503 ledger_unavailable after exactly one retry", async () => {
    const { log, result } = await run(true, doError({ retryable: true }), doError({ retryable: true }), "never");
    const err = problemOf(result);
    expect(err.code).toBe("ledger_unavailable");
    expect(err.status).toBe(503);
    expect(err.headers).toEqual({ "tollgate-request-id": "req_x" });
    expect(log).toEqual({ made: 2, calls: [1, 2] });
  });

  it("retryable, then overloaded on the retry → 429", async () => {
    const { log, result } = await run(true, doError({ retryable: true }), doError({ overloaded: true }));
    expect(problemOf(result).code).toBe("rate_limited");
    expect(log.calls).toEqual([1, 2]);
  });

  it("retryable on a non-idempotent call → 503, not retried (the first attempt may have landed)", async () => {
    const { log, result } = await run(false, doError({ retryable: true }), "held");
    expect(problemOf(result).code).toBe("ledger_unavailable");
    expect(log).toEqual({ made: 1, calls: [1] });
  });

  it("any other error (a bug in the object, a plain Error) → 503, not retried", async () => {
    for (const err of [doError({ remote: true }), new TypeError("x is undefined"), doError({ retryable: false })]) {
      const { log, result } = await run(true, err, "held");
      expect(problemOf(result).code).toBe("ledger_unavailable");
      expect(log.calls).toEqual([1]);
    }
  });

  it("an ApiError thrown by the operation passes through unchanged", async () => {
    const mine = new ApiError("insufficient_funds");
    const { result } = await run(true, mine);
    expect(problemOf(result)).toBe(mine);
  });

  it("flags must be exactly true (truthy strings do not count)", () => {
    expect(isOverloaded(Object.assign(new Error(), { overloaded: "true" }))).toBe(false);
    expect(isRetryable(Object.assign(new Error(), { retryable: 1 }))).toBe(false);
    expect(isRetryable(null)).toBe(false);
    expect(isRetryable("retryable")).toBe(false);
    expect(isRetryable(doError({ retryable: true }))).toBe(true);
  });
});
