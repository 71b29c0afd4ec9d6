/**
 * Writes docs/settings.md from the list of settings in src/util/env.ts. `npm run settings`;
 * test/unit/settings.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { settingsMarkdown } from '../src/util/env.ts';

writeFileSync(new URL('../docs/settings.md', import.meta.url), settingsMarkdown());
console.log('wrote docs/settings.md');
