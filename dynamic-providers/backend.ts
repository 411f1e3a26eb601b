/** 3scale Backend (`/admin/api/backend_apis`): the private upstream a product routes to. */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./threescale/client";
import {
  differingBody,
  findOrCreate,
  refreshed,
  requiredTextFailures,
  systemNameFailures,
  urlFailures,
  urlPorts,
  waitUntilGone,
} from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider, withDefaultPort } from "./threescale/provider-kit";

export interface BackendInputs extends ConnectionInputs {
  systemName: string;
  name: string;
  privateEndpoint: string;
  description?: string;
}

/** Input name → API field for the fields an update may change. */
const UPDATABLE = { name: "name", privateEndpoint: "private_endpoint", description: "description" };

export class BackendProvider extends ThreescaleProvider<BackendInputs> {
  protected readonly createOnly = ["systemName"];

  protected validate(inputs: BackendInputs): Failure[] {
    return [
      ...(inputs.systemName !== undefined ? systemNameFailures(inputs.systemName) : []),
      ...(inputs.name !== undefined ? requiredTextFailures(inputs, ["name"], "Llama 3 backend") : []),
      ...(inputs.privateEndpoint !== undefined
        ? urlFailures(inputs.privateEndpoint, "privateEndpoint", ["http", "https", "ws", "wss"])
        : []),
    ];
  }

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return typeof inputs.privateEndpoint === "string"
      ? { ...inputs, privateEndpoint: withDefaultPort(inputs.privateEndpoint) }
      : inputs;
  }

  async create(inputs: BackendInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const { item, adopted } = await findOrCreate(
      async () =>
        (await client.list("/admin/api/backend_apis.json", "backend_apis", "backend_api")).find(
          (b) => b.system_name === inputs.systemName,
        ),
      async () =>
        (
          await client.post("/admin/api/backend_apis.json", {
            system_name: inputs.systemName,
            ...differingBody(inputs as any, undefined, UPDATABLE),
          })
        ).backend_api,
    );
    if (adopted) await this.sync(inputs, item);
    return { id: String(item.id), outs: { ...inputs, backendId: item.id } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`/admin/api/backend_apis/${id}.json`);
    if (!found) return {};
    return { id, props: { ...refreshed(props, found.backend_api, UPDATABLE), backendId: Number(id) } };
  }

  async update(id: string, _olds: any, news: BackendInputs): Promise<pulumi.dynamic.UpdateResult> {
    const actual = (await this.client(news).get(`/admin/api/backend_apis/${id}.json`)).backend_api;
    await this.sync(news, actual);
    return { outs: { ...news, backendId: Number(id) } };
  }

  async delete(id: string, props: any): Promise<void> {
    const client = this.client(props);
    // Refused (403) while a product still uses it: Pulumi deletes the usages first because they depend on it.
    await client.deleteIfExists(`/admin/api/backend_apis/${id}.json`);
    await waitUntilGone(client, "backend_api", Number(id));
  }

  /** PUTs only the fields that differ from `actual`; no call when nothing does. */
  private async sync(inputs: BackendInputs, actual: Record<string, unknown>): Promise<void> {
    const body = differingBody(inputs as any, actual, UPDATABLE, urlPorts(["privateEndpoint"]));
    if (Object.keys(body).length > 0) await this.client(inputs).put(`/admin/api/backend_apis/${actual.id}.json`, body);
  }
}

/** The one instance every resource of this type shares (serialized once). */
export const backendProvider = new BackendProvider();

export interface BackendArgs {
  connection: pulumi.Input<Connection>;
  systemName: pulumi.Input<string>;
  name: pulumi.Input<string>;
  privateEndpoint: pulumi.Input<string>;
  description?: pulumi.Input<string>;
}

export class Backend extends pulumi.dynamic.Resource {
  declare public readonly backendId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;

  constructor(name: string, args: BackendArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendProvider, name, { ...args, backendId: undefined }, opts, "threescale", "Backend");
  }
}
