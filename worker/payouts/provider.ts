import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { providers } from "../db/schema";

/** Whether the provider directory lists `id`. */
export async function providerExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: providers.id }).from(providers).where(eq(providers.id, id)).get()) !== undefined;
}
