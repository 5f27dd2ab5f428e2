// npm's `prepare` script: builds dist/ in a checkout (where tsconfig.build.json and
// TypeScript are), and does nothing in an installed copy, which ships dist/ already
// built and has no tsconfig.build.json. npm runs `prepare` for a linked or file: dependency too.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
if (existsSync(path.join(root, "tsconfig.build.json"))) {
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  process.exit(build.status ?? 1);
}
