/**
 * Cross-field rules: what the schema alone cannot say (uniqueness, one key requiring another, choices that exclude each
 * other). They run on the raw input, so they report alongside the schema's own problems, one rule per function.
 * Pure module: no Pulumi imports.
 */
import { channelRelease, SUPPORTED_CHANNELS } from "./releases";
import { formatPath, problem, type ConfigProblem, type Path } from "./problems";
import { defaultEndpoints, DNS_LABEL, MODEL_NAME, OPERATOR_KEYS, SYSTEM_NAME, TOKEN_METRICS } from "./schema";

const isObj = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, any> => (isObj(v) ? v : {});
const hasValue = (v: unknown) => v !== undefined && v !== null && v !== "";
const text = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);

/** Namespaces owned by the platform or the cluster, which a model must not use. */
const RESERVED_NAMESPACES = ["default", "istio-system", "knative-serving", "openshift-operators", "openshift-storage"];
const RESERVED_NAMESPACE_PREFIXES = ["openshift-", "kube-", "redhat-ods-", "nvidia-"];
/** `<name>-predictor-<suffix>` host labels must stay within 63 characters. */
export const MAX_MODEL_NAME_LENGTH = 45;

/** A real CSV name per operator, in that package's naming scheme. */
const STARTING_CSV_EXAMPLES: Record<string, string> = {
  openshiftAi: "rhods-operator.2.25.10",
  serviceMesh: "servicemeshoperator.v2.6.1",
  serverless: "serverless-operator.v1.35.0",
  threescale: "3scale-operator.v0.13.4",
  rhsso: "rhsso-operator.7.6.11-opr-004",
  rhbk: "rhbk-operator.v26.0.8-opr.1",
  odf: "odf-operator.v4.18.2-rhodf",
  nfd: "nfd.4.18.0-202501230001",
  gpu: "gpu-operator-certified.v25.10.1",
};

function duplicates<T>(items: T[], keyOf: (t: T) => string | undefined): Array<{ index: number; first: number }> {
  const seen = new Map<string, number>();
  const out: Array<{ index: number; first: number }> = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else out.push({ index, first });
  });
  return out;
}

function effectiveEndpoints(model: Record<string, any>): string[] {
  if (Array.isArray(model.endpoints)) return model.endpoints.filter((e): e is string => typeof e === "string");
  return defaultEndpoints(model.embeddings === true);
}

function uniqueModelNames(models: Array<Record<string, any>>): ConfigProblem[] {
  return duplicates(models, (m) => (typeof m.name === "string" ? m.name : undefined)).map(({ index, first }) =>
    problem(
      ["models", index, "name"],
      `duplicate model name "${models[index].name}" (also models[${first}]); names must be unique`,
      MODEL_NAME.test(String(models[index].name)) ? `${models[index].name}-v2` : undefined,
    ),
  );
}

function modelNameFits(m: Record<string, any>, i: number): ConfigProblem[] {
  if (typeof m.name !== "string" || !DNS_LABEL.test(m.name)) return [];
  if (!/^[a-z]/.test(m.name))
    return [problem(["models", i, "name"], `must start with a letter (KServe service names), got "${m.name}"`)];
  if (!SYSTEM_NAME.test(m.name))
    return [problem(["models", i, "name"], `must have at least two characters (3scale system name)`)];
  if (m.name.length > MAX_MODEL_NAME_LENGTH)
    return [
      problem(
        ["models", i, "name"],
        `must be at most ${MAX_MODEL_NAME_LENGTH} characters so derived host names fit 63, got ${m.name.length}`,
      ),
    ];
  return [];
}

function modelNamespaceIsFree(m: Record<string, any>, i: number, platform: Map<string, string>): ConfigProblem[] {
  const ns = typeof m.namespace === "string" ? m.namespace : typeof m.name === "string" ? m.name : undefined;
  if (ns === undefined) return [];
  const at = m.namespace === undefined ? ["models", i, "name"] : ["models", i, "namespace"];
  if (platform.has(ns))
    return [
      problem(
        at,
        `model namespace "${ns}" is already used by ${platform.get(ns)}; give the model its own namespace`,
        `${ns}-model`,
      ),
    ];
  if (RESERVED_NAMESPACES.includes(ns) || RESERVED_NAMESPACE_PREFIXES.some((p) => ns.startsWith(p)))
    return [problem(at, `namespace "${ns}" belongs to the cluster or an operator`, "granite-models")];
  return [];
}

/**
 * Every model needs a source that really places its weights where the InferenceService reads them: a local directory,
 * a Hugging Face revision, or a prefix already populated in an external bucket (nothing can be in this stack's own
 * new MinIO before `pulumi up`).
 */
function modelHasWeightsSource(m: Record<string, any>, i: number, storageKind: string): ConfigProblem[] {
  const sources = ["localPath", "huggingFace"].filter((k) => m[k] !== undefined);
  if (sources.length > 1)
    return [problem(["models", i, "huggingFace"], "choose one weights source: localPath or huggingFace, not both")];
  if (m.huggingFace !== undefined && m.s3Prefix !== undefined)
    return [
      problem(
        ["models", i, "s3Prefix"],
        "is derived from the Hugging Face repository and revision when huggingFace is set; remove it",
      ),
    ];
  if (sources.length === 1) return [];
  if (m.s3Prefix === undefined)
    return [
      problem(["models", i], "needs a weights source: huggingFace (downloaded in the cluster), localPath or s3Prefix", {
        name: text(m.name, "granite"),
        huggingFace: { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" },
      }),
    ];
  if (storageKind === "minio")
    return [
      problem(
        ["models", i, "s3Prefix"],
        "points into the MinIO this stack creates, which is empty before `pulumi up`: use huggingFace or localPath " +
          "(or storage.kind external for weights already in a bucket)",
        { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" },
      ),
    ];
  return [];
}

function modelReplicasAndEndpoints(m: Record<string, any>, i: number): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const max = typeof m.maxReplicas === "number" ? m.maxReplicas : 1;
  if (typeof m.minReplicas === "number" && m.minReplicas > max)
    out.push(
      problem(["models", i, "minReplicas"], `minReplicas (${m.minReplicas}) must not exceed maxReplicas (${max})`, max),
    );
  const endpoints = arr(m.endpoints);
  if (endpoints.includes("embeddings") && m.embeddings !== true)
    out.push(
      problem(
        ["models", i, "endpoints", endpoints.indexOf("embeddings")],
        `lists the embeddings endpoint but models[${i}].embeddings is not true; set embeddings: true or drop it`,
        "chat_completions",
      ),
    );
  for (const { index } of duplicates(endpoints, (e) => (typeof e === "string" ? e : undefined)))
    out.push(problem(["models", i, "endpoints", index], `duplicate endpoint "${endpoints[index]}"`, "completions"));
  if (m.vllmVersion !== undefined && m.runtimeImage === undefined)
    out.push(
      problem(
        ["models", i, "vllmVersion"],
        "describes a custom runtimeImage; the release's own image has a known version: remove it or set runtimeImage",
      ),
    );
  return out;
}

function planProblems(plans: unknown[], at: Path, models: Array<Record<string, any>>): ConfigProblem[] {
  const list = plans.map(obj);
  const out = duplicates(list, (p) => (typeof p.systemName === "string" ? p.systemName : undefined)).map(
    ({ index, first }) =>
      problem(
        [...at, index, "systemName"],
        `duplicate plan system name "${list[index].systemName}" (also ${formatPath([...at, first])})`,
        `${list[index].systemName}-2`,
      ),
  );
  const defaults = list.map((p, i) => (p.default === true ? i : -1)).filter((i) => i >= 0);
  for (const i of defaults.slice(1))
    out.push(
      problem(
        [...at, i, "default"],
        `more than one default plan (also ${formatPath([...at, defaults[0]])}); a product has at most one`,
        false,
      ),
    );
  list.forEach((plan, pi) => out.push(...limitProblems(arr(plan.limits).map(obj), [...at, pi, "limits"], models)));
  return out;
}

function limitProblems(limits: Array<Record<string, any>>, at: Path, models: Array<Record<string, any>>) {
  const out = duplicates(limits, (l) =>
    typeof l.metric === "string" && typeof l.period === "string" ? `${l.metric}/${l.period}` : undefined,
  ).map(({ index, first }) =>
    problem(
      [...at, index],
      `duplicate limit for metric "${limits[index].metric}" per ${limits[index].period} ` +
        `(also ${formatPath([...at, first])}); keep one value per metric and period`,
      { metric: limits[index].metric, period: "month", value: 1000 },
    ),
  );
  limits.forEach((limit, li) => {
    if (typeof limit.metric !== "string") return;
    const unmeasured = models.find((m) => !["hits", ...TOKEN_METRICS, ...effectiveEndpoints(m)].includes(limit.metric));
    if (unmeasured)
      out.push(
        problem(
          [...at, li, "metric"],
          `metric "${limit.metric}" is not measured for model "${unmeasured.name}": use hits, a token metric ` +
            `(${TOKEN_METRICS.join(", ")}) or one of the model's endpoints (${effectiveEndpoints(unmeasured).join(", ")})`,
          "total_tokens",
        ),
      );
  });
  return out;
}

function corsOrigins(threescale: Record<string, any>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  arr(threescale.corsAllowOrigins).forEach((origin, i) => {
    if (typeof origin !== "string") return;
    const at = ["threescale", "corsAllowOrigins", i];
    if (origin.includes("*"))
      out.push(
        problem(
          at,
          `"${origin}" is not allowed: the gateway sends credentials, so list exact origins`,
          "https://portal.apps.example.com",
        ),
      );
    else if (/^https?:\/\/[^/]+\/.*/.test(origin))
      out.push(
        problem(
          at,
          `"${origin}" is not an origin: scheme and host only, no path or trailing slash`,
          origin.replace(/^(https?:\/\/[^/]+).*$/, "$1"),
        ),
      );
  });
  return out;
}

function externalStorage(raw: Record<string, unknown>, storage: Record<string, any>): ConfigProblem[] {
  if (storage.kind !== "external")
    return storage.external === undefined
      ? []
      : [problem(["storage", "kind"], "is not external, but storage.external is set; choose one", "external")];
  const out: ConfigProblem[] = [];
  if (!isObj(storage.external))
    out.push(
      problem(["storage", "external"], "is required when storage.kind is external", {
        endpoint: "https://s3.example.com",
        accessKeyId: "AKIAEXAMPLE",
      }),
    );
  if (!hasValue(raw.s3SecretAccessKey))
    out.push(
      problem(
        ["s3SecretAccessKey"],
        "is required when storage.kind is external: run `pulumi config set --secret s3SecretAccessKey <key>`",
        "<secret>",
      ),
    );
  if (storage.forceDestroy === true)
    out.push(
      problem(
        ["storage", "forceDestroy"],
        "applies to the MinIO bucket this stack creates; an external bucket is never deleted",
        false,
      ),
    );
  return out;
}

function odfNodes(odf: Record<string, any>): ConfigProblem[] {
  if (odf.enabled !== true) return [];
  const nodes = arr(odf.nodes);
  const out =
    nodes.length < 3
      ? [
          problem(["storage", "odf", "nodes"], `ODF needs at least 3 storage nodes, got ${nodes.length}`, [
            "worker-a",
            "worker-b",
            "worker-c",
          ]),
        ]
      : [];
  for (const { index } of duplicates(nodes, (n) => (typeof n === "string" ? n : undefined)))
    out.push(problem(["storage", "odf", "nodes", index], `duplicate node "${nodes[index]}"`, "worker-d"));
  return out;
}

function systemStorageHasRwxClass(threescale: Record<string, any>, storage: Record<string, any>): ConfigProblem[] {
  if (threescale.systemStorage !== "pvc" || obj(storage.odf).enabled === true || hasValue(storage.rwxStorageClass))
    return [];
  return [
    problem(
      ["storage", "rwxStorageClass"],
      "is required with threescale.systemStorage pvc (3scale's system storage needs ReadWriteMany): name a class " +
        "that exists, enable storage.odf, or use threescale.systemStorage s3",
      "ocs-storagecluster-cephfs",
    ),
  ];
}

/** Manual approval needs the CSV to approve; a channel must be supported and install the selected release. */
function operatorSubscriptions(raw: Record<string, unknown>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const operators = obj(raw.operators);
  // A pinned channel selects the release when none is set; both set must agree.
  const selected: Record<string, unknown> = {
    openshiftAi: obj(raw.openshiftAi).release,
    threescale: obj(raw.threescale).release,
  };
  for (const key of OPERATOR_KEYS) {
    const operator = obj(operators[key]);
    if (operator.installPlanApproval === "Manual" && !hasValue(operator.startingCSV))
      out.push(
        problem(
          ["operators", key, "startingCSV"],
          "is required when installPlanApproval is Manual: the program approves only the InstallPlan that installs " +
            "this CSV (later upgrades wait for an admin); list them with `oc get packagemanifest <package> -o yaml`",
          STARTING_CSV_EXAMPLES[key],
        ),
      );
    if (typeof operator.channel !== "string") continue;
    if (!SUPPORTED_CHANNELS[key].includes(operator.channel))
      out.push(
        problem(
          ["operators", key, "channel"],
          `"${operator.channel}" is not a supported channel: one of ${SUPPORTED_CHANNELS[key].join(", ")}`,
          SUPPORTED_CHANNELS[key][0],
        ),
      );
    else if (typeof selected[key] === "string" && channelRelease(operator.channel) !== selected[key])
      out.push(
        problem(
          ["operators", key, "channel"],
          `"${operator.channel}" installs ${channelRelease(operator.channel)}, but the stack selects release ` +
            `${String(selected[key])} (${key}.release); remove the channel or pick one of that release`,
          SUPPORTED_CHANNELS[key].find((c) => channelRelease(c) === selected[key]),
        ),
      );
  }
  return out;
}

function githubLogin(raw: Record<string, unknown>, sso: Record<string, any>): ConfigProblem[] {
  const github = obj(sso.github);
  if (github.enabled !== true) return [];
  const out: ConfigProblem[] = [];
  if (typeof github.clientId !== "string" || github.clientId === "")
    out.push(problem(["sso", "github", "clientId"], "is required when sso.github.enabled is true"));
  if (!hasValue(raw.githubClientSecret))
    out.push(
      problem(
        ["githubClientSecret"],
        "is required when sso.github.enabled is true: run `pulumi config set --secret githubClientSecret <secret>`",
        "<secret>",
      ),
    );
  return out;
}

/** The one-endpoint product's plans name configured models, and its product does not clash with a model's. */
function endpointPlans(threescale: Record<string, any>, models: Array<Record<string, any>>): ConfigProblem[] {
  const endpoint = obj(threescale.endpoint);
  const names = models.map((m) => m.name).filter((n): n is string => typeof n === "string");
  const out: ConfigProblem[] = [];
  if (typeof endpoint.systemName === "string" && names.includes(endpoint.systemName))
    out.push(
      problem(
        ["threescale", "endpoint", "systemName"],
        `"${endpoint.systemName}" is also a model's product; give the one-endpoint product its own name`,
        "maas-api",
      ),
    );
  const plans = arr(endpoint.plans).map(obj);
  out.push(
    ...duplicates(plans, (p) => (typeof p.systemName === "string" ? p.systemName : undefined)).map(({ index }) =>
      problem(["threescale", "endpoint", "plans", index, "systemName"], `duplicate plan "${plans[index].systemName}"`),
    ),
  );
  plans.forEach((plan, pi) => {
    const at = ["threescale", "endpoint", "plans", pi];
    const included = Array.isArray(plan.models) ? plan.models : names;
    arr(plan.models).forEach((m, mi) => {
      if (typeof m === "string" && !names.includes(m))
        out.push(
          problem([...at, "models", mi], `"${m}" is not a model of this stack: one of ${names.join(", ")}`, names[0]),
        );
    });
    const limits = arr(plan.limits).map(obj);
    for (const { index, first } of duplicates(limits, (l) => `${l.metric}/${l.period}/${l.model ?? "*"}`))
      out.push(
        problem(
          [...at, "limits", index],
          `duplicate limit (also ${formatPath([...at, "limits", first])}); keep one value per metric, period and model`,
        ),
      );
    limits.forEach((limit, li) => {
      if (typeof limit.model !== "string") return;
      if (!names.includes(limit.model))
        out.push(problem([...at, "limits", li, "model"], `"${limit.model}" is not a model of this stack`, names[0]));
      else if (!included.includes(limit.model))
        out.push(
          problem(
            [...at, "limits", li, "model"],
            `"${limit.model}" is not among the plan's models (${included.join(", ")}); add it there or drop the limit`,
            included[0],
          ),
        );
    });
  });
  return out;
}

function uniqueMachineSets(capacity: Record<string, any>): ConfigProblem[] {
  const machineSets = arr(capacity.machineSets).map(obj);
  return duplicates(machineSets, (m) => (typeof m.name === "string" ? m.name : undefined)).map(({ index }) =>
    problem(["capacity", "machineSets", index, "name"], `duplicate MachineSet "${machineSets[index].name}"`),
  );
}

export function crossFieldProblems(raw: Record<string, unknown>): ConfigProblem[] {
  const models = arr(raw.models).map(obj);
  const threescale = obj(raw.threescale);
  const storage = obj(raw.storage);
  const sso = obj(raw.sso);
  const storageKind = text(storage.kind, "minio");
  const platformNamespaces = new Map<string, string>([
    [text(threescale.namespace, "3scale"), "threescale.namespace"],
    [text(sso.namespace, "keycloak"), "sso.namespace"],
    [text(obj(storage.minio).namespace, "ai-models"), "storage.minio.namespace"],
  ]);
  const usingDefaultPlans = models.filter((m) => !Array.isArray(m.plans));
  return [
    ...uniqueModelNames(models),
    ...models.flatMap((m, i) => [
      ...modelNameFits(m, i),
      ...modelNamespaceIsFree(m, i, platformNamespaces),
      ...modelHasWeightsSource(m, i, storageKind),
      ...modelReplicasAndEndpoints(m, i),
      ...(Array.isArray(m.plans) ? planProblems(m.plans, ["models", i, "plans"], [m]) : []),
    ]),
    ...(Array.isArray(threescale.defaultPlans)
      ? planProblems(threescale.defaultPlans, ["threescale", "defaultPlans"], usingDefaultPlans)
      : []),
    ...corsOrigins(threescale),
    ...externalStorage(raw, storage),
    ...odfNodes(obj(storage.odf)),
    ...systemStorageHasRwxClass(threescale, storage),
    ...operatorSubscriptions(raw),
    ...githubLogin(raw, sso),
    ...endpointPlans(threescale, models),
    ...uniqueMachineSets(obj(raw.capacity)),
  ];
}
