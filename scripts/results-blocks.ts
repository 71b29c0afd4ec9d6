// Rewrites the generated result blocks (<!-- results:begin NAME ARG --> … <!-- results:end -->)
// of README.md and docs/*.md from the committed records (src/report/readme-block.ts).
//   npx tsx scripts/results-blocks.ts           write them
//   npx tsx scripts/results-blocks.ts --check   exit 1 naming each stale block, write nothing
// test/unit/report-readme-block.test.ts runs the check, so a record edited without its block
// (or a block edited by hand) fails the tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockError, RECORDS_DIR, documentsWithBlocks, loadRecords, renderBlocks, staleBlocks } from '../src/report/readme-block.ts';
import { writeFileAtomic } from '../src/util/atomic-write.ts';

function main(): number {
  const root = process.cwd();
  const check = process.argv.includes('--check');
  const records = loadRecords(join(root, RECORDS_DIR));
  let stale = 0;
  for (const f of documentsWithBlocks(root)) {
    const doc = readFileSync(join(root, f), 'utf8');
    if (check) {
      for (const b of staleBlocks(doc, records, f, root)) {
        console.error(`stale: ${b}`);
        stale++;
      }
    } else {
      const fresh = renderBlocks(doc, records, f, root);
      if (fresh !== doc) {
        writeFileAtomic(join(root, f), fresh);
        console.log(`wrote ${f}`);
      }
    }
  }
  if (stale > 0) console.error(`${stale} stale results block(s): run \`npm run docs:results\` (or edit the records, not the blocks)`);
  return stale > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  if (!(e instanceof BlockError)) throw e;
  console.error(e.message);
  process.exitCode = 2;
}
