/** Thin helpers over the Durable Object's synchronous SQLite API. */
export type Row = Record<string, SqlStorageValue>;

export class Sql {
  constructor(readonly raw: SqlStorage) {}

  exec(query: string, ...params: SqlStorageValue[]): SqlStorageCursor<Row> {
    return this.raw.exec<Row>(query, ...params);
  }

  one(query: string, ...params: SqlStorageValue[]): Row | null {
    return this.raw.exec<Row>(query, ...params).toArray()[0] ?? null;
  }

  all(query: string, ...params: SqlStorageValue[]): Row[] {
    return this.raw.exec<Row>(query, ...params).toArray();
  }
}

export function iso(ms: SqlStorageValue | undefined): string {
  return new Date(Number(ms)).toISOString();
}

export function isoOrNull(ms: SqlStorageValue | undefined): string | null {
  return ms == null ? null : iso(ms);
}

export function textOrNull(v: SqlStorageValue | undefined): string | null {
  return v == null ? null : String(v);
}

export function jsonOrNull<T>(v: SqlStorageValue | undefined): T | null {
  return v == null ? null : (JSON.parse(String(v)) as T);
}
