// Part of `npm run build`: the web UI's page (src/ui/client: HTML, script, style,
// served as they are, with no build of their own) goes beside the compiled server
// in dist/ui/client, where it looks for them.
import { cpSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
cpSync(path.join(root, "src/ui/client"), path.join(root, "dist/ui/client"), { recursive: true });
