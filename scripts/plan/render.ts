/**
 * Pure renderers of an offline plan: resource tree with key properties, counts per type, Kubernetes manifests,
 * 3scale/Keycloak objects and a Mermaid dependency graph. Secret values never reach any of them: secret inputs and
 * every value of a Kubernetes Secret's data/stringData are replaced before rendering.
 */
import type { RecordedResource } from "./mock-runner";

export const SECRET_PLACEHOLDER = "[secret]";
export const REDACTED_PLACEHOLDER = "[redacted]";
/** The SDK's marker for values unknown during a preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const COMPUTED_PLACEHOLDER = "[computed]";

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

function replaceUnknowns(v: unknown): unknown {
  if (v === UNKNOWN) return COMPUTED_PLACEHOLDER;
  if (Array.isArray(v)) return v.map(replaceUnknowns);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceUnknowns(x)]));
  return v;
}

const isKubernetesSecret = (r: RecordedResource) => /^kubernetes:core\/v1:Secret(Patch)?$/.test(r.type);

/** Inputs safe to show: secret keys replaced, Secret payloads redacted, dynamic-provider code dropped. */
export function safeInputs(r: RecordedResource): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(r.inputs)) {
    if (k === "__provider") continue;
    // A secret map keeps its keys so the plan still shows its shape.
    if (r.secretInputKeys.includes(k))
      out[k] = isObject(v)
        ? Object.fromEntries(Object.keys(v).map((key) => [key, SECRET_PLACEHOLDER]))
        : SECRET_PLACEHOLDER;
    else if (isKubernetesSecret(r) && (k === "data" || k === "stringData"))
      // Not known in a preview (the SDK then sends it without its secret mark): still a secret payload.
      out[k] = isObject(v)
        ? Object.fromEntries(Object.keys(v).map((key) => [key, REDACTED_PLACEHOLDER]))
        : SECRET_PLACEHOLDER;
    else out[k] = replaceUnknowns(v);
  }
  return out;
}

const isManagedKubernetesObject = (r: RecordedResource) =>
  r.custom && !r.read && r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string";

/** One rendered manifest per managed Kubernetes object, in registration order. */
export interface RenderedManifest {
  file: string;
  manifest: Record<string, any>;
}

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, "_");

export function kubernetesManifests(resources: RecordedResource[]): RenderedManifest[] {
  const objects = resources.filter(isManagedKubernetesObject);
  const width = Math.max(2, String(objects.length).length);
  return objects.map((r, i) => {
    const inputs = safeInputs(r);
    const { apiVersion, kind, metadata, ...rest } = inputs;
    const manifest = { apiVersion, kind, metadata: metadata ?? {}, ...rest };
    const ns = metadata?.namespace ?? "cluster";
    const name = metadata?.name ?? r.name;
    const file = `${String(i + 1).padStart(width, "0")}-${fileSafe(String(kind).toLowerCase())}-${fileSafe(String(ns))}-${fileSafe(String(name))}.yaml`;
    return { file, manifest };
  });
}

/** The planned 3scale (dynamic providers) and Keycloak objects. */
export function adminObjects(
  resources: RecordedResource[],
): Array<{ type: string; name: string; inputs: Record<string, any> }> {
  return resources
    .filter(
      (r) => r.custom && (r.type.startsWith("pulumi-nodejs:dynamic/threescale:") || r.type.startsWith("keycloak:")),
    )
    .map((r) => ({ type: r.type, name: r.name, inputs: safeInputs(r) }));
}

/** Short properties that identify what a resource is: namespace, kind, channel, image, system name, ... */
export function keyProperties(r: RecordedResource): string[] {
  const i = safeInputs(r);
  const props: Array<[string, unknown]> = [];
  if (r.read) props.push(["read", r.id]);
  if (isObject(i.metadata)) {
    if (i.kind && !r.type.endsWith(`:${i.kind}`)) props.push(["kind", i.kind]);
    props.push(["ns", i.metadata.namespace], ["name", i.metadata.name !== r.name ? i.metadata.name : undefined]);
  }
  const spec = isObject(i.spec) ? i.spec : {};
  props.push(["package", spec.name && r.type.endsWith(":Subscription") ? spec.name : undefined]);
  props.push(["channel", spec.channel], ["source", spec.source], ["csv", spec.startingCSV]);
  const containers = spec.template?.spec?.containers ?? spec.jobTemplate?.spec?.template?.spec?.containers;
  const image = spec.image ?? (Array.isArray(containers) ? containers[0]?.image : undefined);
  props.push(["image", image], ["replicas", spec.replicas]);
  props.push(
    ["system_name", i.systemName ?? i.system_name],
    ["bucket", r.type.startsWith("aws:") ? i.bucket : undefined],
  );
  if (r.type.startsWith("keycloak:")) props.push(["realm", i.realm ?? i.realmId], ["clientId", i.clientId]);
  return props
    .filter(([, v]) => v !== undefined && v !== null && v !== "" && typeof v !== "object")
    .map(([k, v]) => `${k}=${v}`);
}

/** Indented tree of components and resources under the stack. */
export function resourceTree(resources: RecordedResource[]): string {
  const children = new Map<string | undefined, RecordedResource[]>();
  const urns = new Set(resources.map((r) => r.urn));
  for (const r of resources) {
    const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (r: RecordedResource, prefix: string, last: boolean, depth: number) => {
    const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
    const props = keyProperties(r);
    lines.push(`${prefix}${branch}${r.type} ${r.name}${props.length ? `  (${props.join(", ")})` : ""}`);
    const kids = children.get(r.urn) ?? [];
    const nextPrefix = depth === 0 ? "" : prefix + (last ? "   " : "│  ");
    kids.forEach((k, i) => walk(k, nextPrefix, i === kids.length - 1, depth + 1));
  };
  const roots = children.get(undefined) ?? [];
  roots.forEach((r, i) => walk(r, "", i === roots.length - 1, 0));
  return lines.join("\n");
}

export function countsByType(resources: RecordedResource[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function summary(resources: RecordedResource[]): string {
  const counts = countsByType(resources);
  const width = Math.max(...counts.map(([t]) => t.length));
  return [
    ...counts.map(([t, n]) => `${t.padEnd(width)}  ${String(n).padStart(4)}`),
    `${"total".padEnd(width)}  ${String(resources.length).padStart(4)}`,
  ].join("\n");
}

const mermaidLabel = (r: RecordedResource) =>
  `${r.type.split(":").pop()}: ${r.name}`.replace(/"/g, "'").replace(/[<>]/g, "");

/** Mermaid flowchart: components as nested subgraphs, edges from each dependency to its dependant. */
export function mermaidGraph(resources: RecordedResource[]): string {
  const id = new Map(resources.map((r, i) => [r.urn, `r${i}`]));
  const children = new Map<string, RecordedResource[]>();
  const roots: RecordedResource[] = [];
  for (const r of resources) {
    if (r.parent && id.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    else roots.push(r);
  }
  const lines = ["flowchart LR"];
  const emit = (r: RecordedResource, indent: string) => {
    const kids = children.get(r.urn);
    if (kids && !r.custom) {
      lines.push(`${indent}subgraph ${id.get(r.urn)}["${mermaidLabel(r)}"]`);
      kids.forEach((k) => emit(k, indent + "  "));
      lines.push(`${indent}end`);
    } else {
      lines.push(`${indent}${id.get(r.urn)}["${mermaidLabel(r)}"]`);
      kids?.forEach((k) => emit(k, indent));
    }
  };
  roots.forEach((r) => emit(r, "  "));
  for (const r of resources)
    for (const d of new Set(r.dependencies))
      if (id.has(d) && d !== r.parent) lines.push(`  ${id.get(d)} --> ${id.get(r.urn)}`);
  return lines.join("\n") + "\n";
}
