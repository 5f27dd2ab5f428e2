/**
 * Local filesystem resources: {@link Folder} and {@link File}.
 *
 * @example
 * import { File, Folder } from "alchemy/fs";
 * const out = await Folder("out", { path: "out" });
 * await File("hello", { folder: out, path: "hello.txt", content: "Hello\n" });
 *
 * @module
 */
export { Folder, type FolderProps } from "./folder.js";
export { File, type FileProps } from "./file.js";
