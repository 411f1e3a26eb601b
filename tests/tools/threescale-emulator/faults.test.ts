/** Fault injection determinism, crash simulation, timeouts, drift through live state, id-free snapshots. */
import { startEmulator, type Emulator, type EmulatorOptions, type FaultKind } from "../../../tools/threescale-emulator";
import { apiFor } from "./test-support";

async function withEmulator<T>(opts: EmulatorOptions, fn: (e: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator({ accessToken: "fault-token", ...opts });
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** Sends `n` sequential GETs and returns what happened to each: a fault kind or "ok". */
async function faultSequence(opts: EmulatorOptions, n: number): Promise<string[]> {
  return withEmulator(opts, async (e) => {
    const api = apiFor(e);
    for (let i = 0; i < n; i++) await api("GET", "/admin/api/services.json").catch(() => undefined);
    return e.calls.map((c) => c.fault ?? "ok");
  });
}

describe("faults", () => {
  const mix: FaultKind[] = ["500", "502", "503", "429", "409", "reset"];

  it("are deterministic for a seed and request order, and differ between seeds", async () => {
    const a = await faultSequence({ seed: 7, faults: { rate: 0.5, kinds: mix } }, 24);
    const b = await faultSequence({ seed: 7, faults: { rate: 0.5, kinds: mix } }, 24);
    const c = await faultSequence({ seed: 8, faults: { rate: 0.5, kinds: mix } }, 24);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.filter((x) => x !== "ok").length).toBeGreaterThan(0);
    expect(a.filter((x) => x === "ok").length).toBeGreaterThan(0);
  });

  it("fail before any state change and never count as writes", async () => {
    await withEmulator({ faults: { rate: 1, kinds: ["503"] } }, async (e) => {
      const before = e.state.backends.length;
      const res = await apiFor(e)("POST", "/admin/api/backend_apis.json", {
        json: { name: "Never", private_endpoint: "https://n.example.com" },
      });
      expect(res.status).toBe(503);
      expect(e.state.backends).toHaveLength(before);
      expect(e.writes()).toEqual([]);
      expect(e.calls[0]).toMatchObject({ fault: "503", status: 503, write: true });
    });
  });

  it("answer 409 with an empty body and 429 with JSON", async () => {
    await withEmulator({ faults: { rate: 1, kinds: ["409"] } }, async (e) => {
      const res = await apiFor(e)("GET", "/admin/api/services.json");
      expect([res.status, res.text]).toEqual([409, ""]);
      e.setFaults({ rate: 1, kinds: ["429"] });
      const limited = await apiFor(e)("GET", "/admin/api/services.json");
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ error: "Too Many Requests" });
      e.setFaults(null);
      expect((await apiFor(e)("GET", "/admin/api/services.json")).status).toBe(200);
    });
  });

  it("destroy the socket on reset, and hold then drop it on timeout", async () => {
    await withEmulator({ faults: { rate: 1, kinds: ["reset"] }, timeoutFaultMs: 50 }, async (e) => {
      await expect(apiFor(e)("GET", "/admin/api/services.json")).rejects.toThrow();
      e.setFaults({ rate: 1, kinds: ["timeout"] });
      await expect(apiFor(e)("GET", "/admin/api/services.json")).rejects.toThrow();
      expect(e.calls.map((c) => [c.fault, c.status])).toEqual([
        ["reset", 0],
        ["timeout", 0],
      ]);
    });
  });

  it("close() releases a request held by a timeout fault", async () => {
    const e = await startEmulator({ faults: { rate: 1, kinds: ["timeout"] } });
    const pending = apiFor(e)("GET", "/admin/api/services.json");
    while (e.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    await e.close();
    await expect(pending).rejects.toThrow();
  });

  it("failAfter(n) simulates a crash after n more requests until cleared", async () => {
    await withEmulator({}, async (e) => {
      const api = apiFor(e);
      e.failAfter(2);
      expect((await api("GET", "/admin/api/services.json")).status).toBe(200);
      expect((await api("GET", "/admin/api/services.json")).status).toBe(200);
      await expect(api("GET", "/admin/api/services.json")).rejects.toThrow();
      await expect(api("GET", "/admin/api/services.json")).rejects.toThrow();
      e.failAfter(null);
      expect((await api("GET", "/admin/api/services.json")).status).toBe(200);
    });
  });

  it("latency delays but does not change answers", async () => {
    await withEmulator({ latencyMs: 5 }, async (e) => {
      e.setLatency(10);
      expect((await apiFor(e)("GET", "/admin/api/services.json")).status).toBe(200);
    });
  });
});

describe("live state and snapshot", () => {
  it("reflects direct state edits (drift) in API answers", async () => {
    await withEmulator({}, async (e) => {
      e.state.products[0].name = "Edited in the UI";
      const res = await apiFor(e)("GET", `/admin/api/services/${e.state.products[0].id}.json`);
      expect(res.body.service.name).toBe("Edited in the UI");
    });
  });

  it("is id-free and stable across emulators with the same content", async () => {
    const snap = (opts: EmulatorOptions) => withEmulator(opts, async (e) => e.snapshot());
    const a = await snap({ seed: 3 });
    const b = await snap({ seed: 3, tenantName: "maas" });
    expect(a).toEqual(b);
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (!v || typeof v !== "object") return;
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        walk(x);
      }
    };
    walk(a);
    expect(
      [...keys].filter((k) =>
        /^(id|created_at|updated_at|(service|backend|metric|plan|parent|section|layout|account)_id)$/.test(k),
      ),
    ).toEqual([]);
  });
});
