/**
 * A throw-away PKI for one control plane, made with the openssl CLI (Node can make keys but not X.509
 * certificates). ECDSA P-256 keys keep generation to a few milliseconds each.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface CertPair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: CertPair;
  apiserver: CertPair;
  /** Service-account token signing key pair (private PEM for apiserver+controller-manager, public for verifiers). */
  serviceAccount: { key: string; pub: string };
  /**
   * Client certificates by name: admin (system:masters), controller-manager, scheduler, and front-proxy (the
   * apiserver's identity towards aggregated API servers, trusted via --requestheader-client-ca-file).
   */
  clients: Record<ClientName, CertPair>;
}

export type ClientName = "admin" | "controller-manager" | "scheduler" | "front-proxy";

/** The identities the bootstrap RBAC policy of kube-apiserver already grants the right roles to. */
const CLIENT_SUBJECTS: Record<ClientName, string> = {
  admin: "/O=system:masters/CN=kubernetes-admin",
  "controller-manager": "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
  "front-proxy": "/CN=front-proxy-client",
};

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args.join(" ")} failed: ${stderr || String(err)}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function issue(dir: string, name: string, subject: string, extensions: string[]): CertPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const ext = extensions.flatMap((e) => ["-addext", e]);
  // OpenSSL 3 `req -x509 -CA` signs with the CA in one step.
  openssl(
    ["req", "-x509", ...EC_KEY, "-keyout", pair.key, "-out", pair.cert, "-days", "30", "-subj", subject]
      .concat(["-CA", "ca.crt", "-CAkey", "ca.key", "-addext", "basicConstraints=critical,CA:FALSE"])
      .concat(ext),
    dir,
  );
  return pair;
}

export function createClusterPki(dir: string): ClusterPki {
  fs.mkdirSync(dir, { recursive: true });
  openssl(
    ["req", "-x509", ...EC_KEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=maas-test-ca"]
      .concat(["-addext", "basicConstraints=critical,CA:TRUE"])
      .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]),
    dir,
  );
  const ca = { cert: path.join(dir, "ca.crt"), key: path.join(dir, "ca.key") };

  // The names a client may use for the API server: loopback, and the in-cluster service names and ClusterIP
  // (first address of --service-cluster-ip-range) in case a test inspects them.
  const sans = [
    "IP:127.0.0.1",
    "DNS:localhost",
    "IP:10.96.0.1",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
  ];
  const apiserver = issue(dir, "apiserver", "/CN=kube-apiserver", [
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    `subjectAltName=${sans.join(",")}`,
  ]);

  const clientExt = ["keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"];
  const clients = {} as Record<ClientName, CertPair>;
  for (const name of Object.keys(CLIENT_SUBJECTS) as ClientName[]) {
    clients[name] = issue(dir, `client-${name}`, CLIENT_SUBJECTS[name], clientExt);
  }

  const serviceAccount = { key: path.join(dir, "sa.key"), pub: path.join(dir, "sa.pub") };
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key"], dir);
  openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);

  return { ca, apiserver, serviceAccount, clients };
}

/** A self-contained kubeconfig (certificates inlined), as tools like the Pulumi kubernetes provider expect. */
export function writeKubeconfig(file: string, server: string, caFile: string, client: CertPair, user: string): void {
  const b64 = (f: string): string => fs.readFileSync(f).toString("base64");
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: maas-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caFile)}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
    "contexts:",
    "- name: maas-test",
    "  context:",
    "    cluster: maas-test",
    `    user: ${user}`,
    "current-context: maas-test",
    "",
  ].join("\n");
  fs.writeFileSync(file, text, { mode: 0o600 });
}
