// Layers point one way: core/ imports neither the Worker nor the ledger object, and the ledger
// object (durable-objects/) imports nothing of the Worker (worker/). Exit 1 naming each import
// that points the wrong way. Run by `npm run check`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rules = [
  { from: "core", forbidden: ["worker", "durable-objects"] },
  { from: "durable-objects", forbidden: ["worker"] },
];

function* tsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

const wrong = [];
for (const { from, forbidden } of rules) {
  for (const file of tsFiles(join(root, from))) {
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/\bfrom\s+["'](\.{1,2}\/[^"']+)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = relative(root, resolve(dirname(file), match[1] ?? match[2]));
      const layer = target.split("/")[0];
      if (forbidden.includes(layer)) wrong.push(`${relative(root, file)} imports ${target} (${from}/ must not import ${layer}/)`);
    }
  }
}
if (wrong.length > 0) {
  console.error(wrong.join("\n"));
  process.exit(1);
}
console.log(`layers: ${rules.map((r) => `${r.from}/ imports none of ${r.forbidden.join(", ")}`).join("; ")} — ok`);
