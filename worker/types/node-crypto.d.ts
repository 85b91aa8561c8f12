// The one node:crypto API the Worker uses (workerd provides it with `nodejs_compat`), declared
// here so the Worker's types stay workerd's rather than all of @types/node.
declare module "node:crypto" {
  export function hash(algorithm: "sha256", data: string, outputEncoding: "hex"): string;
}
