/**
 * The files `alchemy init` writes, as functions returning their text. They
 * live in TypeScript rather than as asset files because only TypeScript is
 * compiled into `dist/`, which is what an installed package ships and runs.
 *
 * @module
 */

/** Versions the generated package.json asks for. */
export interface ProjectVersions {
  /** Dependency spec of `alchemy`: a `file:` path to the installed copy, e.g. `file:/usr/lib/node_modules/alchemy`. */
  alchemy: string;
  /** @default "~5.9.3" */
  typescript: string;
  /** @default "^20.19.0" */
  typesNode: string;
  /** @default "^4.23.0" */
  tsx: string;
  /** esbuild, which bundles Workers (the cloudflare template). @default "^0.28.2" */
  esbuild: string;
  /** `@cloudflare/workers-types`, the types of a Worker's `env` and runtime (the cloudflare template). @default "4.20260426.1" */
  workersTypes: string;
}

/**
 * What `alchemy init --template <name>` writes into the project, and what it
 * tells the user to do next.
 */
export interface ProjectTemplate {
  /**
   * The files to write, as `[path, text]` with `/`-separated paths relative
   * to the project, for the application `appName`. `.gitignore` is not one
   * of them: it is merged, never overwritten (see {@link ProjectTemplate.gitignoreLines}).
   */
  files(appName: string, versions: ProjectVersions): Array<[string, string]>;
  /** Lines the project's `.gitignore` must hold; missing ones are appended. */
  gitignoreLines: readonly string[];
  /** The command that first runs the project, after `npm install`. @example "npx alchemy deploy" */
  firstRun: string;
  /** What to know next, printed after the first command; one or more lines, each ending in a newline. */
  nextNotes: string;
}

/** Lines the project's `.gitignore` must hold: state, installed packages, and what the program writes. */
export const GITIGNORE_LINES: readonly string[] = [".alchemy/", "node_modules/", "out/"];

/**
 * The `default` template: a program on the providers that need no account
 * (files and random strings), with workflows for pull request previews.
 */
export const defaultTemplate: ProjectTemplate = {
  files: (appName, versions) => [
    ["package.json", packageJson(appName, versions)],
    ["tsconfig.json", tsconfigJson()],
    ["alchemy.run.ts", alchemyRunTs(appName)],
    ["README.md", readme(appName)],
    [".github/workflows/preview.yml", previewWorkflow()],
    [".github/workflows/sweep-previews.yml", sweepWorkflow(appName)],
  ],
  gitignoreLines: GITIGNORE_LINES,
  firstRun: "npx alchemy deploy",
  nextNotes:
    "Then `npx alchemy plan` shows what a deploy would change, and `npx alchemy destroy` deletes the stage.\n" +
    "Before relying on .github/workflows/preview.yml and sweep-previews.yml, read the note on state atop preview.yml.\n",
};

/**
 * An npm package name for the application `appName`: npm wants lowercase,
 * URL-safe names, while application names may use any script.
 *
 * @example
 * npmPackageName("My.App"); // "my.app"
 */
export function npmPackageName(appName: string): string {
  const name = appName
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .slice(0, 214);
  return name || "alchemy-app";
}

/**
 * `package.json`: an ES module project whose scripts run the `alchemy` command.
 *
 * @example
 * packageJson("my-app", versions); // versions: see ProjectVersions
 */
export function packageJson(appName: string, versions: ProjectVersions): string {
  const pkg = {
    name: npmPackageName(appName),
    private: true,
    type: "module",
    scripts: {
      deploy: "alchemy deploy",
      plan: "alchemy plan",
      destroy: "alchemy destroy",
      typecheck: "tsc",
    },
    dependencies: { alchemy: versions.alchemy },
    // tsx: Node 20 cannot run alchemy.run.ts by itself.
    devDependencies: { "@types/node": versions.typesNode, tsx: versions.tsx, typescript: versions.typescript },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** `tsconfig.json`: type-checks `include` (the program) as Node runs it, emitting nothing. */
export function tsconfigJson(include: readonly string[] = ["**/*.ts"]): string {
  const config = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "ESNext.Disposable"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    },
    include,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * `alchemy.run.ts`: a small program on the providers that need no account.
 * It pins neither stage nor phase, so that the command line decides both.
 */
export function alchemyRunTs(appName: string): string {
  const name = JSON.stringify(appName);
  return `/**
 * What ${appName} deploys. Run it with the alchemy command:
 *
 *   npx alchemy deploy     create, update and delete resources to match this file
 *   npx alchemy plan       show what deploy would change, changing nothing
 *   npx alchemy destroy    delete everything the stage holds
 *
 * The stage is --stage, else $ALCHEMY_STAGE, else $USER, else "dev". Leave
 * stage and phase out of alchemy(...) below: the command line sets them.
 */
import alchemy from "alchemy";
import { File, Folder } from "alchemy/fs";
import { RandomString } from "alchemy/random";

// State goes to .alchemy/${appName}/<stage>/, one JSON file per resource,
// unless $ALCHEMY_STATE_STORE names another store (as the CI workflows do).
const app = await alchemy(${name});

// One folder per stage, so that stages never touch each other's files.
const out = await Folder("out", { path: \`out/\${app.stage.name}\` });

// Generated on the first deploy, then kept: later deploys reuse the recorded value.
// A RandomString is a secret by default: kept encrypted, which needs ALCHEMY_PASSWORD.
// This one opts out so that the first deploy needs no setup; for a real secret, leave
// \`secret: false\` out and set ALCHEMY_PASSWORD (the CI workflows already pass it).
const secret = await RandomString("secret", { length: 24, secret: false });

// Passing \`out\` and \`secret\` themselves makes these files depend on them.
await File("index", { folder: out, path: "index.html", content: ${JSON.stringify(`<h1>Hello from ${appName}</h1>\n`)} });
await File("config", { folder: out, path: "config.json", json: { stage: app.stage.name, secret } });

// Deletes what this program no longer declares (under \`alchemy destroy\`, everything).
await app.finalize();
`;
}

/**
 * `.gitignore` of a new project, holding `lines`.
 *
 * @default lines GITIGNORE_LINES
 */
export function gitignore(lines: readonly string[] = GITIGNORE_LINES): string {
  return `${lines.join("\n")}\n`;
}

/** The stage a pull request deploys to, as a GitHub Actions expression. */
export const PR_STAGE = "pr-${{ github.event.pull_request.number }}";

/** A job step: an action to use, or a command to run. */
interface WorkflowStep {
  name?: string;
  if?: string;
  uses?: string;
  with?: Record<string, string | number>;
  run?: string;
}

/**
 * Stops a job whose ALCHEMY_STATE_STORE secret is missing (not added yet, or a
 * pull request from a fork, which gets no secrets): alchemy would fall back to
 * the runner's disk, and what it deployed would be forgotten with the runner.
 */
const REQUIRE_STATE_STORE: WorkflowStep = {
  name: "Require the shared state store",
  if: "env.ALCHEMY_STATE_STORE == ''",
  run: `echo "::error::The ALCHEMY_STATE_STORE secret is not set (pull requests from forks get no secrets). Add it under Settings > Secrets and variables > Actions."
exit 1`,
};

/**
 * One job of a workflow, as YAML indented under `jobs:`. Every job reads the
 * state store URL and the secrets password from the repository's secrets,
 * stops when the store is missing, then checks the project out and installs
 * it: the shared store is what lets one job see what another deployed.
 */
function workflowJob(name: string, job: { if?: string; steps: WorkflowStep[] }): string {
  const lines = [`  ${name}:`];
  if (job.if) lines.push(`    if: ${job.if}`);
  lines.push(
    "    runs-on: ubuntu-latest",
    "    env:",
    "      ALCHEMY_STATE_STORE: ${{ secrets.ALCHEMY_STATE_STORE }}",
    "      ALCHEMY_PASSWORD: ${{ secrets.ALCHEMY_PASSWORD }}",
    "    steps:",
  );
  const setup: WorkflowStep[] = [
    REQUIRE_STATE_STORE,
    { uses: "actions/checkout@v4" },
    { uses: "actions/setup-node@v4", with: { "node-version": 20, cache: "npm" } },
    { run: "npm ci" },
  ];
  for (const step of [...setup, ...job.steps]) {
    const fields = Object.entries(step);
    fields.forEach(([key, value], i) => {
      const prefix = i === 0 ? "      - " : "        ";
      if (typeof value === "object") {
        lines.push(`${prefix}${key}:`, ...Object.entries(value).map(([k, v]) => `          ${k}: ${v}`));
      } else if (typeof value === "string" && value.includes("\n")) {
        lines.push(`${prefix}${key}: |`, ...value.split("\n").map((line) => `          ${line}`));
      } else {
        lines.push(`${prefix}${key}: ${value}`);
      }
    });
  }
  return `${lines.join("\n")}\n`;
}

/**
 * \`.github/workflows/preview.yml\`: one stage per pull request, deployed on
 * every push and destroyed when the pull request closes. State lives in the
 * store \`$ALCHEMY_STATE_STORE\` names, so that the destroy job sees what the
 * deploy jobs created.
 *
 * @example
 * writeFileSync(".github/workflows/preview.yml", previewWorkflow());
 */
export function previewWorkflow(): string {
  return `# Preview stages: each pull request deploys its own stage, pr-<number>, on
# every push, and destroys it when the pull request is closed or merged.
# sweep-previews.yml destroys the previews whose close event never ran.
#
# STATE: a runner's disk is thrown away when its job ends, so state in .alchemy/
# (the default store) would be lost with it: the next deploy would create
# everything again, and a destroy would find nothing to delete. Every job below
# sets ALCHEMY_STATE_STORE instead, a store URL that alchemy uses whenever the
# program passes no stateStore: point it at a PostgreSQL database every job
# reaches, and alchemy.run.ts needs no change. A job without it stops at once
# (pull requests from forks get no secrets, so no preview). Never cache or
# upload .alchemy/ as an artifact in its place: two runs would each hold a copy
# and overwrite each other's changes. Each run locks its stage in the store, so
# a deploy and a destroy of one pull request never interleave.
#
# Setup:
#   1. npm install pg      (the PostgreSQL store's driver), and commit package-lock.json
#   2. Add two repository secrets (Settings > Secrets and variables > Actions):
#        ALCHEMY_STATE_STORE  postgres://user:password@host:5432/db?schema=alchemy
#        ALCHEMY_PASSWORD     encrypts the secrets kept in state; keep it, every run needs the same one
name: Preview

on:
  pull_request:
    types: [opened, synchronize, reopened, closed]

permissions:
  contents: read

# One run at a time per pull request, queued rather than cancelled: a destroy
# waits for a deploy in flight instead of interrupting it halfway.
concurrency:
  group: preview-pr-\${{ github.event.pull_request.number }}
  cancel-in-progress: false

jobs:
${workflowJob("deploy", { if: "github.event.action != 'closed'", steps: [{ run: `npx alchemy deploy --stage ${PR_STAGE}` }] })}
${workflowJob("destroy", { if: "github.event.action == 'closed'", steps: [{ run: `npx alchemy destroy --stage ${PR_STAGE} --force` }] })}`;
}

/**
 * \`.github/workflows/sweep-previews.yml\`: once a day, destroys every preview
 * stage no deploy has touched for 7 days. It catches the previews whose close
 * event never ran: a destroy job that failed or was skipped, a workflow
 * disabled when the pull request closed. Run by hand, it can list what it
 * would destroy instead. It names the application `appName`, as a store
 * shared by several projects holds the stages of each.
 *
 * @example
 * writeFileSync(".github/workflows/sweep-previews.yml", sweepWorkflow("my-app"));
 */
export function sweepWorkflow(appName: string): string {
  // Application names are letters, digits, "-", "_" and ".": safe unquoted in a shell and in YAML.
  const prune = `npx alchemy stages prune --app ${appName} --match 'pr-*' --older-than 7d`;
  return `# Sweeps stale previews: once a day, destroys every pr-* stage that no deploy
# has touched for 7 days, one stage at a time, each under its own lock. It
# catches the previews preview.yml never destroyed (a destroy job that failed
# or never ran). An open pull request idle that long loses its preview until
# its next push; add --keep pr-12,pr-15 to the command to spare some. Run by
# hand from the Actions tab, it only lists what it would destroy, unless you
# clear its dry-run box.
#
# STATE and SECRETS: the same two secrets as preview.yml (read its note).
# ALCHEMY_STATE_STORE must name the store the previews deploy to, or the sweep
# finds no stage to destroy; --app picks this project's stages in a store that
# other projects share.
name: Sweep previews

on:
  schedule:
    - cron: "23 4 * * *"
  workflow_dispatch:
    inputs:
      dry-run:
        description: List the stages it would destroy, destroying nothing
        type: boolean
        default: true

permissions:
  contents: read

# Never two sweeps at once; a sweep in flight finishes before the next starts.
concurrency:
  group: sweep-previews
  cancel-in-progress: false

jobs:
${workflowJob("sweep", {
  steps: [
    // On schedule, inputs are empty: \`!inputs.dry-run\` holds, and the sweep destroys.
    { name: "Destroy stale previews", if: "${{ !inputs.dry-run }}", run: prune },
    { name: "List the previews a sweep would destroy", if: "${{ inputs.dry-run }}", run: `${prune} --dry-run` },
  ],
})}`;
}

/** `README.md`: how to deploy, plan and destroy. */
export function readme(appName: string): string {
  return `# ${appName}

Infrastructure as TypeScript: \`alchemy.run.ts\` declares the resources, and
alchemy creates, updates and deletes them to match it.

## Deploy, plan, destroy

\`\`\`sh
npm install
npx alchemy deploy            # create, update and delete resources to match alchemy.run.ts
npx alchemy plan              # show what deploy would change, changing nothing
npx alchemy destroy           # delete every resource of the stage
\`\`\`

Each command takes \`--stage <name>\` (default: \`$ALCHEMY_STAGE\`, else \`$USER\`,
else \`dev\`). Stages are isolated from each other: their state lives under
\`.alchemy/${appName}/<stage>/\`, one JSON file per resource.

## Pull request previews

\`.github/workflows/preview.yml\` deploys the stage \`pr-<number>\` for every pull
request and destroys it when the pull request closes;
\`.github/workflows/sweep-previews.yml\` destroys, once a day, the \`pr-*\` stages
no deploy has touched for 7 days, whose close event never ran. Previews need
state that outlives the CI runner: \`npm install pg\`, then add the repository
secrets \`ALCHEMY_STATE_STORE\` (a PostgreSQL URL, \`postgres://user:password@host/db\`)
and \`ALCHEMY_PASSWORD\`. The note atop \`preview.yml\` says why.

The runner must also be able to install alchemy: \`package.json\` names it by a
path on this machine (\`"alchemy": "file:..."\`; the registry's \`alchemy\` is
another project). Commit the package's tarball (\`npm pack\` in alchemy's
checkout) and depend on it instead: \`"alchemy": "file:vendor/alchemy-<version>.tgz"\`.
`;
}
