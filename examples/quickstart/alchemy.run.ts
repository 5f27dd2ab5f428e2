/**
 * The quickstart: a tiny "site" of files on your disk, managed by alchemy.
 *
 *   alchemy deploy            deploy (run it twice: nothing changes)
 *   alchemy plan              what a deploy would change
 *   alchemy destroy --force   delete everything it deployed
 *
 * @module
 */
import alchemy from "alchemy";
import { File, Folder } from "alchemy/fs";
import { RandomString } from "alchemy/random";

// The application scope. The stage (--stage, else $ALCHEMY_STAGE, else $USER,
// else "dev") and the phase (deploy, plan, destroy, read) come from the command line.
// State goes to .alchemy/quickstart/<stage>/, one JSON file per resource.
const app = await alchemy("quickstart");

// Stage-level resources: a folder per stage, and a random string generated once and kept.
const out = await Folder("out", { path: `out/${app.stage.name}` });
// A RandomString is a secret by default: kept encrypted in state, shown as [secret],
// and deploying it needs a password (ALCHEMY_PASSWORD). This demo value opts out with
// `secret: false` so that the quickstart runs without one; for a real secret, leave
// `secret` out and set ALCHEMY_PASSWORD.
const sessionSecret = await RandomString("session-secret", { length: 24, secret: false });

// A nested scope: its resources are recorded under .alchemy/quickstart/<stage>/site/.
await alchemy.run("site", async (scope) => {
  // Passing `out` itself (not out.path) makes these resources depend on it.
  const pages = await Folder("pages", { path: "site", parent: out });
  await File("index", { folder: pages, path: "index.html", content: "<h1>Hello from alchemy</h1>\n" });
  await File("about", { folder: pages, path: "about.html", content: `<p>Deployed by ${scope.path}.</p>\n` });

  // Two levels deep: .alchemy/quickstart/<stage>/site/api/.
  await alchemy.run("api", async () => {
    // The RandomString inside `json` makes this file depend on it too.
    await File("config", { folder: pages, path: "config.json", json: { sessionSecret, port: 8080 } });
  });
});

// Deletes what this program no longer declares (or, under `alchemy destroy`, everything).
await app.finalize();
