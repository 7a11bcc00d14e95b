// Runs `mlops serve` (the serve use case from dist/) on a registry folder, as the benchmarks'
// server process. Prints `listening <url>`; stops gracefully on SIGTERM.
//   node bench/serve-mlops-server.mjs <registry folder> [port]
import { serve } from '../dist/app/serve.js';

const [dir, port = '0'] = process.argv.slice(2);
const { server, done } = await serve({ dir, port: Number(port), env: {}, durability: 'none', debounceMs: 20 });
console.log(`listening ${server.url}`);
await done;
process.exit(0);
