/**
 * The files `alchemy init` writes, as functions returning their text. They
 * live in TypeScript rather than as asset files because only TypeScript is
 * compiled into `dist/`, which is what an installed package ships and runs.
 *
 * @module
 */

/** Versions the generated package.json asks for. */
export interface ProjectVersions {
  /** Dependency spec of `alchemy`: `^0.1.0`, or `file:/path/to/checkout`. */
  alchemy: string;
  /** @default "~5.9.3" */
  typescript: string;
  /** @default "^20.19.0" */
  typesNode: string;
  /** @default "^4.23.0" */
  tsx: string;
}

/** Lines the project's `.gitignore` must hold: state, installed packages, and what the program writes. */
export const GITIGNORE_LINES: readonly string[] = [".alchemy/", "node_modules/", "out/"];

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
 * packageJson("my-app", { alchemy: "^0.1.0", typescript: "~5.9.3", typesNode: "^20.19.0", tsx: "^4.23.0" });
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

/** `tsconfig.json`: type-checks `alchemy.run.ts` as Node runs it, emitting nothing. */
export function tsconfigJson(): string {
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
    include: ["**/*.ts"],
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

// State goes to .alchemy/${appName}/<stage>/, one JSON file per resource.
const app = await alchemy(${name});

// One folder per stage, so that stages never touch each other's files.
const out = await Folder("out", { path: \`out/\${app.stage.name}\` });

// Generated on the first deploy, then kept: later deploys reuse the recorded value.
const secret = await RandomString("secret", { length: 24 });

// Passing \`out\` and \`secret\` themselves makes these files depend on them.
await File("index", { folder: out, path: "index.html", content: ${JSON.stringify(`<h1>Hello from ${appName}</h1>\n`)} });
await File("config", { folder: out, path: "config.json", json: { stage: app.stage.name, secret } });

// Deletes what this program no longer declares (under \`alchemy destroy\`, everything).
await app.finalize();
`;
}

/** `.gitignore` of a new project. */
export function gitignore(): string {
  return `${GITIGNORE_LINES.join("\n")}\n`;
}

/** The stage a pull request deploys to, as a GitHub Actions expression. */
export const PR_STAGE = "pr-${{ github.event.pull_request.number }}";

/**
 * `.github/workflows/preview.yml`: one stage per pull request, deployed on
 * every push and destroyed when the pull request closes.
 */
export function previewWorkflow(): string {
  const job = (name: string, condition: string, command: string) => `  ${name}:
    if: ${condition}
    runs-on: ubuntu-latest
    env:
      ALCHEMY_PASSWORD: \${{ secrets.ALCHEMY_PASSWORD }}
      ALCHEMY_STATE_DATABASE_URL: \${{ secrets.ALCHEMY_STATE_DATABASE_URL }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - run: ${command}
`;
  return `# Preview stages: each pull request deploys its own stage, pr-<number>, on
# every push, and destroys it when the pull request is closed or merged.
#
# STATE: read this before relying on it. By default alchemy keeps state in
# .alchemy/ inside the checkout, and a runner's disk is thrown away when its
# job ends: the next deploy would create everything again, and the destroy job
# would find no state and delete nothing. Previews need their state in a store
# every job reaches: in alchemy.run.ts pass
#   stateStore: (scope) => new PostgresStateStore(scope)   // from "alchemy/state/postgres"
# (it reads ALCHEMY_STATE_DATABASE_URL; add that secret below and under
# Settings > Secrets and variables > Actions). Runs on one stage lock it, so a
# deploy and a destroy of the same pull request never interleave.
#
# ALCHEMY_PASSWORD is the password alchemy uses for secrets kept in state. Add
# it under Settings > Secrets and variables > Actions.
name: Preview

on:
  pull_request:
    types: [opened, synchronize, reopened, closed]

# One run at a time per pull request, queued rather than cancelled: a destroy
# waits for a deploy in flight instead of interrupting it halfway.
concurrency:
  group: preview-pr-\${{ github.event.pull_request.number }}
  cancel-in-progress: false

jobs:
${job("deploy", "github.event.action != 'closed'", `npx alchemy deploy --stage ${PR_STAGE}`)}
${job("destroy", "github.event.action == 'closed'", `npx alchemy destroy --stage ${PR_STAGE} --force`)}`;
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
request and destroys it when the pull request closes. Read the note on state at
the top of that file first: previews need state that outlives the CI runner.
`;
}
