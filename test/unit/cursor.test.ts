import { describe, expect, it } from "vitest";
import { atIdPosition, cursorOf, idPosition, seqPosition } from "../../worker/routes/cursor";
import { ApiError } from "../../worker/errors";

function refused(f: () => unknown) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe("invalid_request");
    expect((e as ApiError).message).toBe("cursor: not a cursor this API returned");
    return;
  }
  throw new Error("the cursor was accepted");
}

describe("cursorOf", () => {
  it("round-trips each position shape through an unpadded base64url cursor", () => {
    const seq = cursorOf(seqPosition);
    const id = cursorOf(idPosition("ak"));
    const pair = cursorOf(atIdPosition("tr"));
    const cursors = [seq.encode(42), id.encode("ak_0123456789abcdefghij"), pair.encode({ at: 1_780_000_000_000, id: "tr_abc" })];
    for (const c of cursors) expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(seq.decode(cursors[0] ?? undefined)).toBe(42);
    expect(id.decode(cursors[1] ?? undefined)).toBe("ak_0123456789abcdefghij");
    expect(pair.decode(cursors[2] ?? undefined)).toEqual({ at: 1_780_000_000_000, id: "tr_abc" });
  });

  it("keeps the cursors it issued before: base64url of the position's text", () => {
    expect(cursorOf(seqPosition).encode(7)).toBe(btoa("7").replaceAll("=", ""));
    expect(cursorOf(atIdPosition("req")).decode(btoa("12:req_x"))).toEqual({ at: 12, id: "req_x" });
  });

  it("null means no more pages / the first page", () => {
    expect(cursorOf(seqPosition).encode(null)).toBeNull();
    expect(cursorOf(seqPosition).decode(undefined)).toBeNull();
  });

  it("refuses what it did not issue with 400 invalid_request", () => {
    for (const bad of ["!!!", btoa("x"), btoa("-1"), btoa("1.5"), btoa("0"), btoa("99999999999999999")]) refused(() => cursorOf(seqPosition).decode(bad));
    for (const bad of [btoa("mnd_abc"), btoa("ak_ABC"), btoa("ak_x' OR 1=1")]) refused(() => cursorOf(idPosition("ak")).decode(bad));
    for (const bad of [btoa("1:req_a"), btoa("x:tr_a"), btoa("1:tr_a:2")]) refused(() => cursorOf(atIdPosition("tr")).decode(bad));
    refused(() => cursorOf(seqPosition).decode("_-8"));
  });
});
