/**
 * End-to-end driver: the whole program under the harness, with every 3scale dynamic resource executed by the REAL
 * providers (through their serialized form, like the Pulumi host) against the emulator. Each `up` is one
 * `pulumi up`: register the program's resources, then delete the ones no longer declared.
 * Only the 3scale configuration layer runs against the emulator; the portal layer's dynamic resources (CMS content,
 * SSO integration) get the harness's default handler: they have their own tests.
 */
import type { ClientOptions } from "../../dynamic-providers/threescale/client";
import { startEmulator, type Emulator, type EmulatorOptions, type Release } from "../../tools/threescale-emulator";
import {
  createDynamicEngine,
  DynamicEngine,
  inThreescaleLayer,
  RefreshResult,
} from "../../scripts/plan/dynamic-engine";
import { HarnessState, runProgram, RunResult } from "../../scripts/plan/mock-runner";

export const DYNAMIC = (name: string) => `pulumi-nodejs:dynamic/threescale:${name}`;

/** Quick retries: the emulator answers instantly, so waiting only slows tests down. */
export const FAST_RETRIES: ClientOptions = { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 20, timeoutMs: 10_000 };

export interface Deployment {
  emulator: Emulator;
  engine: DynamicEngine;
  state: HarnessState;
  /** Calls and operations are reset at the start of each `up`/`refresh`. One `pulumi up` with the given config overrides (whole top-level keys); updates `state` on success. */
  up(config?: Record<string, unknown>): Promise<RunResult>;
  /** `pulumi refresh`: reads every resource; updates `state`. */
  refresh(): Promise<RefreshResult>;
  /** `pulumi destroy`. */
  destroy(): Promise<void>;
  close(): Promise<void>;
}

export interface DeploymentOptions {
  stack?: string;
  /** The 3scale release the emulator plays and the providers are told (default: the emulator's). */
  release?: Release;
  emulator?: EmulatorOptions;
  clientOptions?: ClientOptions;
  /** Config overrides applied to every `up` (merged under the per-call ones). */
  config?: Record<string, unknown>;
}

export async function startDeployment(opts: DeploymentOptions = {}): Promise<Deployment> {
  const emulator = await startEmulator({ latencyMs: 0, release: opts.release, ...opts.emulator });
  const engine = createDynamicEngine({
    connection: {
      adminUrl: emulator.url,
      accessToken: emulator.accessToken,
      verifyTls: false,
      release: opts.release,
    },
    clientOptions: opts.clientOptions ?? FAST_RETRIES,
    manages: inThreescaleLayer,
  });
  const deployment: Deployment = {
    emulator,
    engine,
    state: { resources: {} },
    async up(config) {
      emulator.resetCalls();
      engine.resetOperations();
      const result = await runProgram({
        stack: opts.stack ?? "dev",
        config: { ...opts.config, ...config },
        handlers: engine.handlers,
        state: deployment.state,
      });
      await engine.destroy(result.removed);
      deployment.state = result.state;
      return result;
    },
    async refresh() {
      emulator.resetCalls();
      engine.resetOperations();
      const refreshed = await engine.refresh(deployment.state);
      deployment.state = refreshed.state;
      return refreshed;
    },
    async destroy() {
      await engine.destroy(Object.values(deployment.state.resources));
      deployment.state = { resources: {} };
    },
    close: () => emulator.close(),
  };
  return deployment;
}

/** Emulator calls as `METHOD path` lines (for readable assertion failures). */
export function describeCalls(calls: Array<{ method: string; path: string }>): string[] {
  return calls.map((c) => `${c.method} ${c.path}`);
}
