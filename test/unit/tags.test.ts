import { describe, expect, it } from "vitest";
import { ApiError } from "../../worker/errors";
import { MAX_TAGS, mergeTags, TagsSchema } from "../../core/tags";
import { parseTagsHeader } from "../../worker/proxy/tags-header";

// Cost-allocation tags: bounded, and unable to inject into CSV/spreadsheets or headers.

/** The ApiError a header is refused with (fails the test if it is accepted). */
function refusal(header: string): ApiError {
  try {
    parseTagsHeader(header);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error(`accepted: ${JSON.stringify(header)}`);
}

describe("parseTagsHeader: accepts", () => {
  it("no header, or a blank one, as no tags", () => {
    expect(parseTagsHeader(null)).toEqual({});
    expect(parseTagsHeader("")).toEqual({});
    expect(parseTagsHeader("   ")).toEqual({});
  });

  it("name=value pairs, trimming spaces around each part", () => {
    expect(parseTagsHeader("team=growth,session=s1")).toEqual({ team: "growth", session: "s1" });
    expect(parseTagsHeader(" team = growth , session=s1 ")).toEqual({ team: "growth", session: "s1" });
  });

  it("the documented character sets, at their maximum lengths", () => {
    const key = `k${"a".repeat(31)}`; // 32
    const value = `V${"x".repeat(63)}`; // 64
    expect(parseTagsHeader(`${key}=${value}`)).toEqual({ [key]: value });
    expect(parseTagsHeader("cost.center_1-x=Ab0_.:/-z")).toEqual({ "cost.center_1-x": "Ab0_.:/-z" });
    expect(parseTagsHeader("n=0")).toEqual({ n: "0" });
  });

  it(`exactly ${MAX_TAGS} tags`, () => {
    const header = Array.from({ length: MAX_TAGS }, (_, i) => `t${i}=v${i}`).join(",");
    expect(Object.keys(parseTagsHeader(header))).toHaveLength(MAX_TAGS);
  });

  it("a name that is also an Object.prototype member (constructor)", () => {
    // Every name is checked for duplicates against the parsed tags; inherited members must not count.
    expect(parseTagsHeader("constructor=x")).toEqual({ constructor: "x" });
    expect(Object.getPrototypeOf(parseTagsHeader("team=a"))).toBe(Object.prototype);
  });
});

describe("parseTagsHeader: refuses (400 invalid_request)", () => {
  it(`more than ${MAX_TAGS} tags`, () => {
    const header = Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}=v${i}`).join(",");
    const err = refusal(header);
    expect(err.code).toBe("invalid_request");
    expect(err.status).toBe(400);
    expect(err.message).toContain(`at most ${MAX_TAGS}`);
  });

  it("a name longer than 32 or a value longer than 64", () => {
    expect(refusal(`k${"a".repeat(32)}=v`).code).toBe("invalid_request");
    expect(refusal(`k=V${"x".repeat(64)}`).code).toBe("invalid_request");
  });

  it("a duplicate name", () => {
    const err = refusal("team=growth,team=ops");
    expect(err.message).toContain("'team' appears twice");
  });

  it("formula-leading values (=cmd, +1, -1, @x) and other leading punctuation", () => {
    for (const value of ["=cmd", "=1+1", "+1", "-1", "@x", "_x", ".x", ":x", "/x"]) {
      expect(refusal(`a=${value}`).code, value).toBe("invalid_request");
    }
  });

  it("CR, LF, tabs and other control characters inside a tag", () => {
    for (const header of ["a=b\r\nx-injected: 1", "a=b\nc=d", "a=b\rc", "a\nb=c", "a=b\tc", "a=b\u0000", "a=b\u007f"]) {
      expect(refusal(header).code, JSON.stringify(header)).toBe("invalid_request");
    }
  });

  it("empty parts and malformed pairs", () => {
    for (const header of ["a=b,", ",a=b", "a=b,,c=d", "a", "=b", "a=", "a==b", "a=b=c", " , "]) {
      expect(refusal(header).code, JSON.stringify(header)).toBe("invalid_request");
    }
  });

  it("names that are not lower-case identifiers, and values outside the safe set", () => {
    for (const header of ["Team=x", "1team=x", "_team=x", "__proto__=x", "te am=x", "team=a b", "team=a;b", 'team=a"b', "team=a,b=c'", "team=é", "team=a<b>"]) {
      expect(refusal(header).code, header).toBe("invalid_request");
    }
  });

  it("quotes at most 80 characters of a bad part in its message", () => {
    const err = refusal(`team=${"!".repeat(500)}`);
    expect(err.message.length).toBeLessThan(200);
  });
});

describe("TagsSchema (mandate tags in JSON)", () => {
  it("accepts what the header accepts and refuses what it refuses", () => {
    expect(TagsSchema.safeParse({ team: "growth", session: "s1" }).success).toBe(true);
    expect(TagsSchema.safeParse({ team: "=cmd" }).success).toBe(false);
    expect(TagsSchema.safeParse({ Team: "x" }).success).toBe(false);
    expect(TagsSchema.safeParse({ team: "a\r\nb" }).success).toBe(false);
    expect(TagsSchema.safeParse(Object.fromEntries(Array.from({ length: MAX_TAGS + 1 }, (_, i) => [`t${i}`, "v"]))).success).toBe(false);
    expect(TagsSchema.safeParse(Object.fromEntries(Array.from({ length: MAX_TAGS }, (_, i) => [`t${i}`, "v"]))).success).toBe(true);
  });
});

describe("mergeTags", () => {
  it("the mandate's tags win a conflict; the call's others are kept", () => {
    expect(mergeTags({ team: "growth", cost: "c1" }, { team: "hacked", session: "s1" })).toEqual({ team: "growth", cost: "c1", session: "s1" });
  });

  it("no mandate tags: the call's tags as they are", () => {
    expect(mergeTags(null, { session: "s1" })).toEqual({ session: "s1" });
    expect(mergeTags({}, { session: "s1" })).toEqual({ session: "s1" });
  });

  it("no call tags: the mandate's", () => {
    expect(mergeTags({ team: "growth" }, {})).toEqual({ team: "growth" });
    expect(mergeTags(null, {})).toEqual({});
  });

  it("does not modify its inputs", () => {
    const mandate = { team: "growth" };
    const callTags = { team: "x", session: "s1" };
    mergeTags(mandate, callTags);
    expect(mandate).toEqual({ team: "growth" });
    expect(callTags).toEqual({ team: "x", session: "s1" });
  });
});
