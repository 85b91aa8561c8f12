// The benchmark's ablation patches (bench/ablations/*.patch) must apply to this tree: the floor
// arm of `npm run bench` is this tree with bench/ablations/floor.patch applied.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = "bench/ablations";
let failed = 0;
for (const name of readdirSync(`${root}${dir}`).filter((f) => f.endsWith(".patch"))) {
  try {
    execFileSync("git", ["apply", "--check", `${dir}/${name}`], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    console.log(`ok    ${dir}/${name}`);
  } catch (err) {
    failed++;
    console.log(`STALE ${dir}/${name}: ${err.stderr?.toString().trim() ?? err}`);
  }
}
if (failed > 0) {
  console.log(`\n${failed} patch(es) no longer apply: apply by hand against today's tree, then \`git diff -- worker durable-objects > ${dir}/<name>\`.`);
  process.exitCode = 1;
}
