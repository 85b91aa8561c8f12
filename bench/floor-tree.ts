/**
 * The floor arm's tree: this working tree (what `git ls-files` lists, tracked and untracked,
 * uncommitted edits included) copied into a temp dir that shares this checkout's node_modules,
 * with `bench/ablations/<patch>` applied. `bench/run.ts` runs it in its own workerd beside the
 * real tree, so Tollgate ÷ floor is taken in the same run. The copy is the tree being measured,
 * so the floor follows every change to the Worker path; when the patch no longer applies, this
 * throws (refresh the patch: `npm run bench:ablations` says which).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "./gateway.ts";

export type ScratchTree = { root: string; remove: () => void };

/** The working tree's files, tracked and untracked (not ignored), relative to ROOT. */
function treeFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  return [...new Set(out.split("\0").filter(Boolean))].filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());
}

export function patchedTree(patch: "floor.patch" | "worker-only.patch"): ScratchTree {
  const root = mkdtempSync(join(tmpdir(), `tollgate-${patch.replace(".patch", "")}-`));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    for (const f of treeFiles()) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      copyFileSync(join(ROOT, f), join(root, f));
    }
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    // Outside a repository `git apply` patches the files under its working directory.
    execFileSync("git", ["apply", join(ROOT, "bench", "ablations", patch)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    return { root, remove };
  } catch (err) {
    remove();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`bench/ablations/${patch} does not apply to this tree; refresh it (see bench/README.md): ${stderr || String(err)}`);
  }
}
