/**
 * A preview per pull request: the workflows in .github/workflows/ deploy this
 * program to the stage pr-<number> on every push, destroy it when the pull
 * request closes, and sweep the previews nobody destroyed.
 *
 *   npx alchemy deploy --stage pr-123             what preview.yml runs on a push
 *   npx alchemy destroy --stage pr-123 --force    what it runs when the pull request closes
 *   npx alchemy stages                            every stage, with its last deploy
 *
 * No stateStore below: alchemy uses the store $ALCHEMY_STATE_STORE names (the
 * workflows set it to a PostgreSQL URL from a secret), else .alchemy/.
 *
 * @module
 */
import alchemy from "alchemy";
import { File, Folder } from "alchemy/fs";
import { RandomString } from "alchemy/random";

const app = await alchemy("github-actions-example");
const stage = app.stage.name;

// Preview stages are named by the workflow after their pull request: pr-123.
const pullRequest = /^pr-(\d+)$/.exec(stage)?.[1];

// One folder per stage, so that two previews never touch each other's files.
const site = await Folder("site", { path: `out/${stage}` });

// Generated on a stage's first deploy, then kept: every later push reuses it.
const previewKey = await RandomString("preview-key", { length: 24 });

const title = pullRequest ? `Preview of pull request #${pullRequest}` : `Stage ${stage}`;
await File("index", { folder: site, path: "index.html", content: `<h1>${title}</h1>\n` });
await File("config", { folder: site, path: "config.json", json: { stage, pullRequest: pullRequest ?? null, previewKey } });

// Deletes what the program no longer declares; under `alchemy destroy`, everything.
await app.finalize();
