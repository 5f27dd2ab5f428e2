/**
 * The `cloudflare` template of `alchemy init`: a Worker with a D1 database
 * and a KV namespace, run on this machine by `npx alchemy dev` (Miniflare),
 * with no Cloudflare account.
 *
 * @module
 */
import { MINIFLARE_VERSION } from "../../providers/cloudflare/local/load-miniflare.js";
import { npmPackageName, tsconfigJson, type ProjectTemplate, type ProjectVersions } from "./init-templates.js";

/** Where the Worker's source lives in the project; `alchemy dev` reloads the Worker when it changes. */
const WORKER_SOURCE = "src/api/index.ts";

/**
 * The `cloudflare` template: package.json, tsconfig.json, alchemy.run.ts,
 * the Worker (src/api/index.ts) with its own src/tsconfig.json, the first D1
 * migration and a README.
 */
export const cloudflareTemplate: ProjectTemplate = {
  files: (appName, versions) => [
    ["package.json", cloudflarePackageJson(appName, versions)],
    // The program only: the Worker has its own (src/tsconfig.json), since it runs on workerd, not Node.
    ["tsconfig.json", tsconfigJson(["alchemy.run.ts"])],
    ["alchemy.run.ts", cloudflareAlchemyRunTs(appName)],
    [WORKER_SOURCE, apiWorkerTs()],
    ["src/tsconfig.json", workerTsconfigJson()],
    ["migrations/0001_init.sql", initMigrationSql()],
    ["README.md", cloudflareReadme(appName)],
  ],
  gitignoreLines: [".alchemy/", "node_modules/"],
  firstRun: "npx alchemy dev",
  nextNotes:
    `It serves the Worker on Miniflare and prints its URL; editing ${WORKER_SOURCE} reloads it. Ctrl-C stops it.\n` +
    "Then `npx alchemy destroy --local` deletes the local database, namespace and Worker, with their data.\n",
};

/**
 * `package.json`: alchemy with the packages its local Cloudflare runtime
 * loads (Miniflare at the version alchemy is built against, esbuild to
 * bundle the Worker), and the Workers' types.
 */
function cloudflarePackageJson(appName: string, versions: ProjectVersions): string {
  const pkg = {
    name: npmPackageName(appName),
    private: true,
    type: "module",
    scripts: {
      dev: "alchemy dev",
      // Deploying to Cloudflare itself is not available yet: deploy and destroy act on the local runtime.
      deploy: "alchemy deploy --local",
      destroy: "alchemy destroy --local",
      typecheck: "tsc && tsc -p src",
    },
    dependencies: { alchemy: versions.alchemy, esbuild: versions.esbuild, miniflare: MINIFLARE_VERSION },
    devDependencies: {
      "@cloudflare/workers-types": versions.workersTypes,
      "@types/node": versions.typesNode,
      tsx: versions.tsx,
      typescript: versions.typescript,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** `src/tsconfig.json`: the Worker, typed by `@cloudflare/workers-types` and bundled by esbuild. */
function workerTsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022"],
      module: "ESNext",
      moduleResolution: "Bundler",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["@cloudflare/workers-types"],
    },
    include: ["**/*.ts"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** `alchemy.run.ts`: a scope `api` holding a D1 database, a KV namespace and the Worker bound to both. */
function cloudflareAlchemyRunTs(appName: string): string {
  return `/**
 * What ${appName} runs. On this machine, with no Cloudflare account:
 *
 *   npx alchemy dev              run it on Miniflare; edits reload it; Ctrl-C stops
 *   npx alchemy deploy --local   deploy it once and exit, serving nothing (the data stays in .alchemy/)
 *   npx alchemy destroy --local  delete the local resources and their data
 *
 * The stage is --stage, else $ALCHEMY_STAGE, else $USER, else "dev". Leave
 * stage and phase out of alchemy(...) below: the command line sets them.
 */
import alchemy from "alchemy";
import { D1Database, KVNamespace, Worker } from "alchemy/cloudflare";

const app = await alchemy(${JSON.stringify(appName)});

await alchemy.run("api", async () => {
  // Each .sql file of ./migrations is applied once, in name order.
  const db = await D1Database("api-db", { migrationsDir: "./migrations" });
  const cache = await KVNamespace("api-cache");
  // Bundled with esbuild; inside the Worker, these are env.DB, env.CACHE and env.GREETING.
  const api = await Worker("api-worker", {
    script: "./${WORKER_SOURCE}",
    bindings: { DB: db, CACHE: cache, GREETING: "Hello" },
  });
  console.log(api.url);
});

// Deletes what this program no longer declares (under \`alchemy destroy\`, everything).
await app.finalize();
`;
}

/** `src/api/index.ts`: the Worker, on the bindings the program gives it. */
function apiWorkerTs(): string {
  return `// The API Worker. Its bindings are declared in alchemy.run.ts.
interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  GREETING: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, first, key] = url.pathname.split("/");

    // GET /: a greeting from a plain-text binding.
    if (url.pathname === "/" && request.method === "GET") return new Response(\`\${env.GREETING} from the api Worker\\n\`);

    // GET /users: rows of the D1 database (migrations/ creates the table).
    if (url.pathname === "/users" && request.method === "GET") {
      const { results } = await env.DB.prepare("SELECT id, name FROM users ORDER BY id").all<{ id: number; name: string }>();
      return Response.json(results);
    }

    // PUT /cache/<key> stores the body; GET /cache/<key> reads it back.
    if (first === "cache" && key) {
      if (request.method === "PUT") {
        await env.CACHE.put(key, await request.text());
        return new Response(null, { status: 204 });
      }
      if (request.method === "GET") {
        const value = await env.CACHE.get(key);
        return value === null ? new Response("not found\\n", { status: 404 }) : new Response(value);
      }
    }

    return new Response("not found\\n", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
`;
}

/** `migrations/0001_init.sql`: the users table, with one row to read. */
function initMigrationSql(): string {
  return `-- Applied once per database; alchemy records it in the d1_migrations table.
-- Add changes as new files (0002_...sql): an applied file is never run again.
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
INSERT INTO users (name) VALUES ('ada');
`;
}

/** `README.md`: how to run the project locally. */
function cloudflareReadme(appName: string): string {
  return `# ${appName}

A Cloudflare Worker with a D1 database and a KV namespace, declared in
\`alchemy.run.ts\` and run on this machine by Miniflare: no Cloudflare account needed.

## Run it

\`\`\`sh
npm install
npx alchemy dev
\`\`\`

\`alchemy dev\` creates the database (applying \`migrations/\`), the namespace and
the Worker, then prints the Worker's URL, on a free port of this machine:
\`Ready: ${appName}/<stage>/api/api-worker on http://127.0.0.1:<port>/\`. In another terminal:

\`\`\`sh
URL=http://127.0.0.1:<port>                # the URL alchemy dev printed
curl $URL/                                 # Hello from the api Worker
curl $URL/users                            # [{"id":1,"name":"ada"}]
curl -X PUT --data world $URL/cache/hello
curl $URL/cache/hello                      # world
\`\`\`

It keeps running: save \`${WORKER_SOURCE}\` (or \`alchemy.run.ts\`, or a new
migration) and it deploys again, serving the new Worker on the same URL. A
change that does not build leaves the old Worker serving. Ctrl-C stops it.

The Worker keeps the same port from run to run, and the data stays in
\`.alchemy/\` between runs. To delete the resources and their data:

\`\`\`sh
npx alchemy destroy --local
\`\`\`

\`npx alchemy deploy --local\` runs the program once and exits. Deploying to
Cloudflare itself is not available yet.

## Types

\`tsconfig.json\` checks \`alchemy.run.ts\`, which Node runs; \`src/tsconfig.json\`
checks the Worker against \`@cloudflare/workers-types\`, as it runs on workerd.
\`npm run typecheck\` runs both.
`;
}
