import { promises } from './fs.ts';

/** node:fs/promises for the page: the in-memory tree of fs.ts. */
export const { readFile, stat, open, mkdir, writeFile, rm, readdir, access, mkdtemp, rename } = promises;
export default promises;
