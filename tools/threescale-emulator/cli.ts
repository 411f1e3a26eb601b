/**
 * Starts the emulator standalone: `npm run emulator -- --port 8081 [--release 2.15|2.16] [--token T] [--tenant maas]
 * [--no-strict] [--no-seed] [--latency MS] [--deletion-lag-ms MS] [--fault-rate 0.1] [--seed N]`. Prints the URL and
 * token; Ctrl-C stops it. Always binds 127.0.0.1; --port forwards a fixed port to the emulator's ephemeral one.
 */
import * as net from "node:net";
import { RELEASES, startEmulator, type EmulatorOptions, type Release } from "./index";

export function parseArgs(argv: string[]): { port: number; options: EmulatorOptions } {
  const options: EmulatorOptions = {};
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value, e.g. ${arg} 8081`);
      return v;
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isFinite(n)) throw new Error(`${arg} must be a number, e.g. ${arg} 10`);
      return n;
    };
    if (arg === "--port") port = number();
    else if (arg === "--token") options.accessToken = value();
    else if (arg === "--tenant") options.tenantName = value();
    else if (arg === "--wildcard-domain") options.wildcardDomain = value();
    else if (arg === "--latency") options.latencyMs = number();
    else if (arg === "--deletion-lag-ms") options.deletionLagMs = number();
    else if (arg === "--release") {
      const release = value();
      if (!(RELEASES as readonly string[]).includes(release))
        throw new Error(`--release must be one of ${RELEASES.join(", ")}, e.g. --release 2.16; got "${release}"`);
      options.release = release as Release;
    } else if (arg === "--fault-rate") options.faults = { rate: number() };
    else if (arg === "--seed") options.seed = number();
    else if (arg === "--no-strict") options.strictSpec = false;
    else if (arg === "--no-seed") options.seedDefaults = false;
    else
      throw new Error(
        `unknown option ${arg}; known: --port --release --token --tenant --wildcard-domain --latency --deletion-lag-ms --fault-rate --seed --no-strict --no-seed`,
      );
  }
  return { port, options };
}

async function main() {
  const { port, options } = parseArgs(process.argv.slice(2));
  const emulator = await startEmulator(options);
  let url = emulator.url;
  let proxy: net.Server | null = null;
  if (port > 0) {
    const target = new URL(emulator.url);
    proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), "127.0.0.1");
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((resolve, reject) => {
      proxy!.once("error", reject);
      proxy!.listen(port, "127.0.0.1", resolve);
    });
    url = `http://127.0.0.1:${port}`;
  }
  process.stdout.write(
    `3scale ${emulator.state.release} emulator listening on ${url}\naccess token: ${emulator.accessToken}\n`,
  );
  const stop = async () => {
    proxy?.close();
    await emulator.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
