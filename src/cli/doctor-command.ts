import { Command } from 'commander';

/**
 * `label-leak doctor`: which tfjs backends start on this machine, and for each that does not,
 * why and what to install. That advice used to fill the `backend:` line of every run.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('which tfjs backends start here, which one `--backend auto` picks, and what the others need')
    .action(async () => {
      // Loaded here, not at start-up: `label-leak --help` must not pay for tfjs.
      const { listBackends, startBackend, BackendUnavailableError } = await import('../backend/select.ts');
      for (const p of await listBackends()) {
        if (p.info) console.log(`✓ ${p.name} ${p.info.version} — ${p.info.device} (${p.info.reason})`);
        else console.log(`✗ ${p.name}: ${p.error}`);
      }
      // What a run with the default --backend gets (auto takes no software adapter, which a named webgpu does).
      const auto = await startBackend('auto').catch((e: unknown) => {
        if (e instanceof BackendUnavailableError) return undefined;
        throw e;
      });
      console.log(auto ? `--backend auto (the default) picks ${auto.name}` : '--backend auto (the default) finds nothing that starts');
      // The threaded wasm build's workers would keep the process alive.
      process.exit(0);
    });
}
