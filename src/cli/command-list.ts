/**
 * The commands as `label-leak --help` lists them, without loading them: each command's module
 * pulls in tfjs and its backends (src/commands.ts), which took 7–15 s on a loaded machine for a
 * help screen. test/unit/cli-lazy-help.test.ts checks every entry against the real command.
 */
export interface CommandSummary {
  name: string;
  /** As commander's help prints it: name, [options], arguments. */
  term: string;
  description: string;
}

export const COMMANDS: readonly CommandSummary[] = [
  { name: 'run', term: 'run [options] [claims...]', description: "run claims (all when none is named) and compare each verdict with the spec's expected one" },
  { name: 'list', term: 'list [options]', description: 'list the claim specs: id, experiment kind, expected verdict per tier, title' },
  { name: 'report', term: 'report [options]', description: 'write report.md and SVG plots from result records (several --results folders merge by seed)' },
  { name: 'data', term: 'data', description: 'check, download or load the datasets (mnist, fashion-mnist, cifar10)' },
  {
    name: 'bench',
    term: 'bench [options]',
    description: 'training throughput (images/second) of the MLP, the small CNN and ResNet-20 with FGSM batches, and of FGSM and BIM alone, on every backend that starts (workloads: bench/cases.json)',
  },
  { name: 'audit', term: 'audit [options] <model>', description: 'audit a saved tfjs model (model.json + weights) for label leaking and gradient masking' },
  {
    name: 'diff',
    term: 'diff [options] <a> <b>',
    description: 'two results folders (runs, commits, backends) side by side per claim and metric: the change, and whether the verdict moved',
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'serve a page that runs any claim in a browser tab, on its WebGPU (wasm where it has none), and downloads the record',
  },
  { name: 'doctor', term: 'doctor', description: 'which tfjs backends start here, which one `--backend auto` picks, and what the others need' },
];

/** Whether these arguments run (or ask help for) a command, so the commands must be loaded. */
export function needsCommands(args: readonly string[]): boolean {
  const words = args.filter((a) => !a.startsWith('-'));
  const known = (w: string | undefined) => w !== undefined && COMMANDS.some((c) => c.name === w);
  return known(words[0]) || (words[0] === 'help' && known(words[1]));
}
