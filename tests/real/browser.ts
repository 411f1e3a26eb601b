/**
 * A developer signing in to the realm the program configured (realm from the RHBK import, client and mappers from the
 * real keycloak provider), in headless Chromium through the router's HTTPS route, with a password: the authorization
 * code flow of the `3scale` client as 3scale's portal runs it. The code is caught where the browser is sent back to
 * the portal's callback (the portal itself is not emulated), exchanged for tokens with the client secret, and the
 * tokens' claims read. Then redirect URIs other than the registered one are tried: Keycloak must refuse each.
 */
import * as https from "https";
import type { Keycloak } from "../../tools/real/keycloak";
import { adminToken } from "../../tools/real/keycloak";
import type { Deployment } from "../../tools/real/deployment";
import { launchChromium } from "../support/chromium";

export interface SignInResult {
  email: string;
  claims: Record<string, unknown>;
  rejectedRedirects: { uri: string; error: string }[];
}

/** POST a form over HTTPS to the router (self-signed: the stacks skip TLS verification too). */
function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: "POST",
        rejectUnauthorized: false,
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const payload = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));

export async function signIn(o: {
  keycloak: Keycloak;
  realm: string;
  clientId: string;
  appsDomain: string;
  stack: Deployment;
}): Promise<SignInResult> {
  const kc = o.keycloak;
  const admin = { authorization: `Bearer ${await adminToken(kc)}`, "content-type": "application/json" };
  const base = `${kc.url}/admin/realms/${o.realm}`;
  const email = "dev.one@example.com";
  const password = "Correct-Horse-7";
  // A developer with a verified e-mail (as GitHub brokering with trustEmail would create one).
  const created = await fetch(`${base}/users`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({
      username: "dev-one",
      email,
      emailVerified: true,
      firstName: "Dev",
      lastName: "One",
      enabled: true,
      credentials: [{ type: "password", value: password, temporary: false }],
    }),
  });
  if (created.status !== 201) throw new Error(`creating the test user: HTTP ${created.status} ${await created.text()}`);
  const [client] = (await (await fetch(`${base}/clients?clientId=${o.clientId}`, { headers: admin })).json()) as any[];
  const secret = ((await (await fetch(`${base}/clients/${client.id}/client-secret`, { headers: admin })).json()) as any)
    .value;
  const redirect = client.redirectUris[0] as string;

  const issuer = `https://keycloak-keycloak.${o.appsDomain}/realms/${o.realm}`;
  const authUrl = (uri: string) =>
    `${issuer}/protocol/openid-connect/auth?${new URLSearchParams({ client_id: o.clientId, redirect_uri: uri, response_type: "code", scope: "openid email", state: "s1" })}`;

  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    let callback: string | undefined;
    // The portal's callback (Keycloak's 302 after the login): record the code. Requests that follow a redirect are
    // not routable in Playwright, so the portal page itself may fail to load: only its URL matters here.
    page.on("request", (req) => {
      if (req.url().startsWith(redirect)) callback ??= req.url();
    });
    await page.goto(authUrl(redirect));
    const action = await page.getAttribute("form#kc-form-login", "action");
    if (!action?.startsWith(`${issuer}/`)) throw new Error(`the login form posts to ${action}, not under ${issuer}`);
    await page.fill("#username", email);
    await page.fill("#password", password);
    await page.click("#kc-login", { noWaitAfter: true });
    const deadline = Date.now() + 30000;
    while (!callback && Date.now() < deadline) await page.waitForTimeout(100);
    if (!callback)
      throw new Error(
        `the browser never reached the redirect URI (at ${page.url()}: ${(await page.textContent("body").catch(() => ""))?.slice(0, 300)})`,
      );
    const code = new URL(callback).searchParams.get("code");
    if (!code) throw new Error(`no code in ${callback}`);

    const tokens = await postForm(`${issuer}/protocol/openid-connect/token`, {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirect,
      client_id: o.clientId,
      client_secret: secret,
    });
    if (tokens.status !== 200) throw new Error(`token exchange: HTTP ${tokens.status} ${tokens.body}`);
    const t = JSON.parse(tokens.body);
    const id = payload(t.id_token);
    const access = payload(t.access_token);
    const claims = {
      email_verified: id.email_verified,
      org_name: id.org_name,
      access_org_name: access.org_name,
      iss: id.iss,
    };
    if (access.email_verified !== id.email_verified) throw new Error("access and id tokens disagree on email_verified");

    // Only the exact registered URI is accepted.
    const u = new URL(redirect);
    const candidates = [
      `${redirect}x`,
      `${u.origin}/evil/callback`,
      `https://attacker.example.com${u.pathname}`,
      redirect.replace("https://", "http://"),
    ];
    const rejectedRedirects: { uri: string; error: string }[] = [];
    for (const uri of candidates) {
      let sent = false;
      const watch = (req: { url(): string }) => {
        if (req.url().startsWith(uri)) sent = true;
      };
      page.on("request", watch);
      await page.goto(authUrl(uri)).catch(() => undefined);
      page.off("request", watch);
      const text = (await page.textContent("body").catch(() => "")) ?? "";
      if (sent) throw new Error(`Keycloak sent the browser to ${uri}`);
      rejectedRedirects.push({ uri, error: text.replace(/\s+/g, " ").trim().slice(0, 120) });
    }
    return { email, claims, rejectedRedirects };
  } finally {
    await browser.close();
  }
}
