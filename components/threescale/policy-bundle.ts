/**
 * Our APIcast policy as 3scale deploys it: every file of the policy directory in one content-hashed Secret the
 * APIManager mounts, and the CustomPolicyDefinition that shows its configuration form in the admin portal.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import type { ReleaseSet } from "../config/releases";
import { awaitAnnotations, Manifest } from "../kubernetes";
import { waitFor } from "../readiness";

export const POLICY_DIR = path.resolve(__dirname, "../../assets/apicast-policies/llm-metrics");
const CPD_SCHEMA_FIELDS = ["$schema", "name", "summary", "description", "version", "configuration"] as const;

/** `apicast-policy.json`: the fields this program reads (APIcast's manifest schema has more). */
export interface PolicyManifest {
  name?: string;
  version: string;
  configuration: { properties?: Record<string, unknown>; [keyword: string]: unknown };
  [field: string]: unknown;
}

export interface PolicyBundle {
  /** APIcast policy id: the directory (module) name with '_' (the manifest's `name` is a display name). */
  name: string;
  version: string;
  manifest: PolicyManifest;
  /** File name → base64 content, every file of the policy directory. */
  files: Record<string, string>;
  /** Content-hashed, so a changed policy is a new Secret and APIcast rolls. */
  secretName: string;
}

/** Reads every file of the policy directory (at plan time) and derives the Secret name from their content. */
export function readPolicyBundle(dir: string = POLICY_DIR): PolicyBundle {
  const manifestPath = path.join(dir, "apicast-policy.json");
  if (!fs.existsSync(manifestPath)) throw new Error(`APIcast policy manifest not found: ${manifestPath}`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  if (typeof manifest.version !== "string" || !manifest.configuration) {
    throw new Error(`${manifestPath}: needs a string "version" and a "configuration" schema`);
  }
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
  if (!names.includes("init.lua")) throw new Error(`${dir}: an APIcast policy needs init.lua`);
  const hash = crypto.createHash("sha256");
  const files: Record<string, string> = {};
  for (const n of names) {
    const content = fs.readFileSync(path.join(dir, n));
    files[n] = content.toString("base64");
    hash.update(n).update("\0").update(content).update("\0");
  }
  const dirName = path.basename(dir);
  return {
    name: dirName.replace(/-/g, "_"),
    version: manifest.version,
    manifest,
    files,
    secretName: `${dirName}-${hash.digest("hex").slice(0, 8)}`,
  };
}

export function buildPolicySecret(bundle: PolicyBundle, namespace: string): k8s.core.v1.SecretArgs {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: bundle.secretName,
      namespace,
      labels: { "apimanager.apps.3scale.net/watched-by": "apimanager" },
    },
    type: "Opaque",
    data: { ...bundle.files },
  };
}

export function buildCustomPolicyDefinition(
  bundle: PolicyBundle,
  namespace: string,
  readyMinutes: number,
  releases: ReleaseSet,
): Manifest {
  const schema: Record<string, unknown> = {};
  for (const f of CPD_SCHEMA_FIELDS) if (bundle.manifest[f] !== undefined) schema[f] = bundle.manifest[f];
  return {
    apiVersion: "capabilities.3scale.net/v1beta1",
    kind: "CustomPolicyDefinition",
    metadata: {
      name: bundle.name.replace(/_/g, "-"),
      namespace,
      annotations: awaitAnnotations(waitFor("CustomPolicyDefinition", releases), readyMinutes),
    },
    spec: { name: bundle.name, version: bundle.version, schema },
  };
}
