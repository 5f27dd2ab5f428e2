import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { FileSystemStateStore } from "./fs-state-store.js";

describeStageLock("FileSystemStateStore", async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "alchemy-fs-lock-"));
  return {
    factory: (scope) => new FileSystemStateStore(scope, { dir }),
    reopen: () => (scope) => new FileSystemStateStore(scope, { dir }),
    cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }),
  };
});
