/**
 * The benchmark's counting D1 wrapper (gateway.ts installs it unless `d1Counter` is false): a
 * Worker, given to Miniflare as source, that wraps the real D1 database and counts calls, batches
 * and the journal transfers each export batch carried, for the bench route `/__bench/d1-stats`.
 */

export const D1_COUNTER_SCRIPT = `
// auditStatements: audit INSERT statements (not rows) in batches.
const stats = { calls: 0, batches: 0, batchStatements: 0, single: 0, exec: 0, exportBatches: 0, transfersExported: 0, exportBatchSizes: {}, auditOnlyBatches: 0, auditStatements: 0 };
const real = new WeakMap();
const TRANSFER_INSERT = /^\\s*insert\\s+into\\s+"?transfers"?\\s/i;
const AUDIT_INSERT = /^\\s*insert\\s+into\\s+"?audit_events"?\\s/i;
// The export sends many rows per statement (a JSON array bound to ?2, unpacked by json_each).
// Parsed only where the count is reported (transfers): parsing every page's JSON here cost the
// metered arm ≈ 1.4 % of its CPU (bench/profile.ts), which production does not pay.
const rowsOf = (entry) => (/json_each/i.test(entry.sql) ? JSON.parse(entry.values[1]).length : 1);
const hasRows = (entry) => !/json_each/i.test(entry.sql) || entry.values[1] !== "[]";
function wrapStatement(stmt, sql, values = []) {
  const proxy = new Proxy(stmt, {
    get(target, key) {
      if (key === "bind") return (...values) => wrapStatement(target.bind(...values), sql, values);
      if (key === "first" || key === "run" || key === "all" || key === "raw") {
        return (...args) => { stats.calls++; stats.single++; return target[key](...args); };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  real.set(proxy, { stmt, sql, values });
  return proxy;
}
export default function (env) {
  const db = env.INNER;
  return new Proxy(db, {
    get(target, key) {
      if (key === "benchStats") return () => JSON.parse(JSON.stringify(stats));
      if (key === "prepare") return (sql) => wrapStatement(target.prepare(sql), sql);
      if (key === "batch") {
        return (statements) => {
          stats.calls++;
          stats.batches++;
          stats.batchStatements += statements.length;
          let transfers = 0;
          let audit = 0;
          const unwrapped = statements.map((s) => {
            const entry = real.get(s);
            if (entry && TRANSFER_INSERT.test(entry.sql)) transfers += rowsOf(entry);
            if (entry && AUDIT_INSERT.test(entry.sql) && hasRows(entry)) audit++;
            return entry ? entry.stmt : s;
          });
          stats.auditStatements += audit;
          if (audit > 0 && transfers === 0) stats.auditOnlyBatches++;
          if (transfers > 0) {
            stats.exportBatches++;
            stats.transfersExported += transfers;
            stats.exportBatchSizes[transfers] = (stats.exportBatchSizes[transfers] ?? 0) + 1;
          }
          return target.batch(unwrapped);
        };
      }
      if (key === "exec") return (...args) => { stats.calls++; stats.exec++; return target.exec(...args); };
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
`;
