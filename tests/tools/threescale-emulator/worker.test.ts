import { startEmulatorInWorker } from "../../../tools/threescale-emulator/worker";

test("the emulator in a worker answers admin API calls and reports what it counted", async () => {
  const emulator = await startEmulatorInWorker({ latencyMs: 0 });
  try {
    const get = await fetch(`${emulator.url}/admin/api/services.json?access_token=${emulator.accessToken}`);
    expect(get.status).toBe(200);
    const post = await fetch(`${emulator.url}/admin/api/backend_apis.json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        access_token: emulator.accessToken,
        name: "Worker check",
        private_endpoint: "http://x:80",
      }),
    });
    expect(post.status).toBe(201);
    expect(await emulator.counts()).toEqual({ calls: 2, writes: 1 });
    await emulator.resetCalls();
    expect(await emulator.counts()).toEqual({ calls: 0, writes: 0 });
  } finally {
    await emulator.close();
  }
});
