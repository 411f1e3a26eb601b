/** 3scale Backend (`/admin/api/backend_apis`): the private upstream a product routes to. */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { BACKENDS_PATH, listBackends } from "./threescale/catalog";
import { Failure, fieldFailures } from "./threescale/checks";
import { withDefaultPort } from "./threescale/equality";
import { toApi, urlPorts } from "./threescale/fields";
import { ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

export interface BackendInputs extends ConnectionInputs {
  systemName: string;
  name: string;
  privateEndpoint: string;
  description?: string;
}

export class BackendProvider extends ObjectProvider<BackendInputs> {
  protected readonly createOnly = ["systemName"];
  protected readonly keyIsUnique = true;
  // porta backend_apis_controller.rb L44-47 `mark_as_deleted`, destroyed later by DeleteObjectHierarchyWorker.
  protected readonly deletedAsynchronously = true;
  protected readonly idOutput = "backendId";
  protected readonly envelope = "backend_api";
  protected readonly fields = { name: "name", privateEndpoint: "private_endpoint", description: "description" };
  // 3scale stores endpoints with an explicit default port.
  protected readonly fieldNormalizer = urlPorts(["private_endpoint"]);

  protected validate(inputs: BackendInputs): Failure[] {
    return fieldFailures(inputs, {
      systemName: { kind: "systemName", required: true, example: '"llama_3_8b"' },
      name: { kind: "string", required: true, example: '"Llama 3 backend"' },
      privateEndpoint: {
        kind: "url",
        required: true,
        schemes: ["http", "https", "ws", "wss"],
        example: '"https://llm.models.svc:8443"',
      },
      description: { kind: "text", example: '"vLLM in namespace models"' },
    });
  }

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return typeof inputs.privateEndpoint === "string"
      ? { ...inputs, privateEndpoint: withDefaultPort(inputs.privateEndpoint) }
      : inputs;
  }

  protected path(_inputs: BackendInputs, item: { id: number | string }): string {
    return `${BACKENDS_PATH}/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: BackendInputs) {
    return (await listBackends(client)).find((b) => b.system_name === inputs.systemName);
  }

  protected async post(client: AdminClient, inputs: BackendInputs) {
    const body = { system_name: inputs.systemName, ...toApi(inputs, this.fields) };
    return (await client.post(`${BACKENDS_PATH}.json`, body)).backend_api;
  }

  /**
   * Refused (403) while a product still uses it: Pulumi deletes the usages first because they depend on it. Done once
   * 3scale accepted it; its system_name stays taken until the background worker ran, which a namesake's create
   * waits for (see `deletedAsynchronously`).
   */
  async delete(id: string, props: BackendInputs): Promise<void> {
    await super.delete(id, props);
  }
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const backendProvider = new BackendProvider();

export interface BackendArgs {
  connection: pulumi.Input<Connection>;
  systemName: pulumi.Input<string>;
  name: pulumi.Input<string>;
  privateEndpoint: pulumi.Input<string>;
  description?: pulumi.Input<string>;
}

export class Backend extends ThreescaleResource {
  declare public readonly backendId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  constructor(name: string, args: BackendArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendProvider, "Backend", name, args, ["backendId", "appliedRevision"], opts);
  }
}
