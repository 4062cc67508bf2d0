// Entry point esbuild bundles to dist/server.js. The transport comes from argv, handled by
// vscode-languageserver/node: `--stdio` (Neovim, Emacs, tests), `--node-ipc` (VS Code's
// TransportKind.ipc), `--socket=N`, `--pipe=NAME`.

import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';
import { isSimulationWorker } from './simulate';
import { isPoolWorker } from './sim-pool';

// The same bundle runs the simulation worker threads (server/simulate.ts, server/sim-pool.ts); they start no server.
if (!isSimulationWorker() && !isPoolWorker()) main();

function main(): void {
  const transports = ['--stdio', '--node-ipc', '--socket', '--pipe'];
  if (!process.argv.slice(2).some((a) => transports.some((t) => a === t || a.startsWith(`${t}=`)))) {
    process.stderr.write('usage: faultline-server --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n');
    process.exit(2);
  }

  const connection = createConnection(ProposedFeatures.all);

  // A bug in one feature must not take the editor's server down (STYLE.md, rust-analyzer): log and go on.
  process.on('uncaughtException', (err) => {
    try {
      connection.console.error(`faultline: uncaught exception: ${err.stack ?? err.message}`);
    } catch {
      process.stderr.write(`faultline: uncaught exception: ${err.stack ?? err.message}\n`);
    }
  });
  process.on('unhandledRejection', (err) => {
    const msg = err instanceof Error ? err.stack ?? err.message : String(err);
    try {
      connection.console.error(`faultline: unhandled rejection: ${msg}`);
    } catch {
      process.stderr.write(`faultline: unhandled rejection: ${msg}\n`);
    }
  });

  startServer(connection);
  connection.listen();
}
