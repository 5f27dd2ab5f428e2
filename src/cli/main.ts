#!/usr/bin/env node
/**
 * The `alchemy` binary.
 *
 * @module
 */
import { processIO } from "./io.js";
import { runCli } from "./program.js";

try {
  process.exitCode = await runCli(process.argv.slice(2), processIO());
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
// The run is over: exit even if the program left timers or sockets open, once
// everything written to stdout and stderr is flushed (a pipe may still hold a
// large --json document).
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))));
process.exit();
