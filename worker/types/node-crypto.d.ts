// The one node:crypto API the Worker uses (workerd provides it with `nodejs_compat`), declared
// here so the Worker's types stay workerd's rather than all of @types/node.
declare module "node:crypto" {
  interface Hash {
    update(data: string, encoding: "utf8"): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
