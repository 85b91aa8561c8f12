import { decodeBase64Url, encodeBase64Url } from "hono/utils/encode";
import { z } from "zod";
import { ApiError } from "../errors";

/**
 * Page cursors. To clients a cursor is opaque: base64url (unpadded) of a position's text. Each
 * paginated route declares its position's shape as a zod codec between that text and a typed
 * value, so a cursor that is not one the route returned is refused before it reaches a query.
 */
export type Cursor<T> = {
  /** The `next_cursor` for a page that ends at `position` (null: no more pages). */
  encode(position: T | null): string | null;
  /** The position a `cursor` query parameter names (null: the first page); 400 when it is not one. */
  decode(cursor: string | undefined): T | null;
};

const NOT_A_CURSOR = "cursor: not a cursor this API returned";
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A cursor codec for positions of the shape `position` (text ↔ typed value). */
export function cursorOf<Out extends z.ZodType>(position: z.ZodCodec<z.ZodString, Out>): Cursor<z.output<Out>> {
  return {
    encode(value) {
      if (value === null) return null;
      return encodeBase64Url(utf8.encode(z.encode(position, value)).buffer).replaceAll("=", "");
    },
    decode(cursor) {
      if (cursor === undefined) return null;
      let text: string;
      try {
        text = strictUtf8.decode(decodeBase64Url(cursor));
      } catch {
        throw new ApiError("invalid_request", NOT_A_CURSOR);
      }
      const parsed = z.safeDecode(position, text);
      if (!parsed.success) throw new ApiError("invalid_request", NOT_A_CURSOR);
      return parsed.data;
    },
  };
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A journal or audit seq (a positive integer), written in decimal. */
export const seqPosition = z.codec(z.string().regex(/^\d{1,16}$/), z.number().int().min(1).max(MAX_SEQ), {
  decode: (text) => Number(text),
  encode: (seq) => String(seq),
});

/** An id of the form `<prefix>_<token>` (the listing continues after it in id order). */
export function idPosition(prefix: string) {
  const shape = new RegExp(`^${prefix}_[0-9a-z]{1,40}$`);
  return z.codec(z.string().regex(shape), z.string().regex(shape), { decode: (text) => text, encode: (id) => id });
}

/** `<at>:<id>`: a row's time in epoch milliseconds and its id, for listings newest first. */
export function atIdPosition(prefix: string) {
  const shape = new RegExp(`^(\\d{1,16}):(${prefix}_[0-9a-z_]{1,60})$`);
  return z.codec(z.string().regex(shape), z.object({ at: z.number().int().min(0).max(MAX_SEQ), id: z.string() }), {
    decode: (text) => {
      const m = shape.exec(text);
      return { at: Number(m?.[1]), id: String(m?.[2]) };
    },
    encode: (p) => `${p.at}:${p.id}`,
  });
}
