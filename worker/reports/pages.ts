import type { Page } from "../../durable-objects/types";

/**
 * Every item of one of the ledger's lists (journal, audit trail), oldest first. The ledger pages
 * them newest first: `page(cursor)` asks for the page below `cursor` (null: the newest).
 */
export async function oldestFirst<T>(page: (cursor: number | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: number | null = null;
  for (;;) {
    const { data, next_cursor } = await page(cursor);
    items.push(...data);
    if (next_cursor === null) return items.reverse();
    cursor = Number(next_cursor);
  }
}
