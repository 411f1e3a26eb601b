/** 3scale backend usage: routes a product's path prefix to a backend (`services/{id}/backend_usages`). */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { listBackendUsages, productPath } from "./threescale/catalog";
import { failure, Failure, fieldFailures } from "./threescale/checks";
import { known } from "./threescale/unknown";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

export interface BackendUsageInputs extends ConnectionInputs {
  productId: number;
  backendId: number;
  path: string;
}

/** The path as 3scale stores it: one leading slash, no trailing slash, "/" when empty. */
export function normalizeUsagePath(path: string): string {
  return "/" + path.replace(/^\/+|\/+$/g, "");
}

export class BackendUsageProvider extends ObjectProvider<BackendUsageInputs> {
  protected readonly createOnly = ["productId", "backendId"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "backendUsageId";
  protected readonly envelope = "backend_usage";
  protected readonly fields = { path: "path" };
  protected readonly fieldNormalizer = (_field: string, value: unknown) =>
    typeof value === "string" ? normalizeUsagePath(value) : value;

  protected validate(inputs: BackendUsageInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      productId: { kind: "id", required: true, example: "42 (a Product's productId)" },
      backendId: { kind: "id", required: true, example: "43 (a Backend's backendId)" },
      path: { kind: "text", required: true, example: '"/" or "/v1"' },
    });
    if (known(inputs.path) && /[\s?#]/.test(String(inputs.path))) {
      failures.push(
        failure("path", "must be a URL path prefix without spaces, query or fragment", '"/v1"', inputs.path),
      );
    }
    return failures;
  }

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return typeof inputs.path === "string" ? { ...inputs, path: normalizeUsagePath(inputs.path) } : inputs;
  }

  protected path(inputs: BackendUsageInputs, item: { id: number | string }): string {
    return `${productPath(inputs.productId)}/backend_usages/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: BackendUsageInputs) {
    return (await listBackendUsages(client, inputs.productId)).find((u) => u.backend_id === inputs.backendId);
  }

  protected async post(client: AdminClient, inputs: BackendUsageInputs) {
    const body = { backend_api_id: inputs.backendId, path: inputs.path };
    return (await client.post(`${productPath(inputs.productId)}/backend_usages.json`, body)).backend_usage;
  }

  protected refresh(props: Record<string, any>, actual: ApiObject): Record<string, any> {
    return { ...super.refresh(props, actual), backendId: actual.backend_id };
  }
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const backendUsageProvider = new BackendUsageProvider();

export interface BackendUsageArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  backendId: pulumi.Input<number>;
  path: pulumi.Input<string>;
}

export class BackendUsage extends ThreescaleResource {
  declare public readonly backendUsageId: pulumi.Output<number>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;
  constructor(name: string, args: BackendUsageArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendUsageProvider, "BackendUsage", name, args, ["backendUsageId", "appliedRevision"], opts);
  }
}
