/**
 * An ActiveDocs (OpenAPI) specification shown in the developer portal, optionally bound to a product. The body is
 * compared as parsed JSON, so formatting and key order never cause an update.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ConnectionInputs, Failure, ThreescaleProvider, canonical } from "./threescale/provider-kit";
import {
  differences,
  fieldFailures,
  findOrCreate,
  fromApi,
  hasAny,
  looseEqual,
  toApi,
  unlessGone,
} from "./threescale/provider-helpers";

export interface ActiveDocInputs extends ConnectionInputs {
  systemName: string;
  name: string;
  productId?: number;
  /** OpenAPI document as a JSON string. */
  body: string;
  description?: string;
  published?: boolean;
  skipSwaggerValidations?: boolean;
}

export interface ActiveDocOutputs extends ActiveDocInputs {
  activeDocId: number;
}

const ATTRIBUTES = {
  name: "name",
  productId: "service_id",
  description: "description",
  published: "published",
};

const BASE = "/admin/api/active_docs";

/** 3scale names the ActiveDocs envelope `api_doc` (older representers used `active_doc`). */
function unwrapDoc(data: any): any {
  return data?.api_doc ?? data?.active_doc ?? data;
}

function parsedBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export class ActiveDocProvider extends ThreescaleProvider<ActiveDocInputs> {
  protected readonly createOnly = ["systemName"];

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return typeof inputs.body === "string" ? { ...inputs, body: canonical(parsedBody(inputs.body)) } : inputs;
  }

  protected validate(inputs: ActiveDocInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      systemName: { kind: "systemName", required: true, example: '"granite_api"' },
      name: { kind: "string", required: true, example: '"Granite API"' },
      productId: { kind: "id", example: "42 (a Product's productId)" },
      body: { kind: "string", required: true, example: '\'{"openapi":"3.0.2","info":{...},"paths":{...}}\'' },
      description: { kind: "text", example: '"OpenAI-compatible endpoints"' },
      published: { kind: "boolean", example: "true" },
      skipSwaggerValidations: { kind: "boolean", example: "false" },
    });
    if (typeof inputs.body === "string" && inputs.body.trim() !== "") {
      const parsed = parsedBody(inputs.body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        failures.push({
          property: "body",
          reason: 'must be an OpenAPI document as a JSON object string, e.g. \'{"openapi":"3.0.2",...}\'',
        });
      }
    }
    return failures;
  }

  async create(inputs: ActiveDocInputs): Promise<pulumi.dynamic.CreateResult> {
    const doc = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      (client) => this.findBySystemName(client, inputs.systemName),
      async (client) =>
        unwrapDoc(
          await client.post(`${BASE}.json`, {
            ...toApi(inputs, ATTRIBUTES),
            system_name: inputs.systemName,
            body: inputs.body,
            ...this.validationFlag(inputs),
          }),
        ),
    );
    await this.sync(this.client(inputs), doc, inputs);
    return { id: String(doc.id), outs: { ...inputs, activeDocId: doc.id } };
  }

  async read(id: string, props: ActiveDocOutputs): Promise<pulumi.dynamic.ReadResult> {
    const doc = await unlessGone(async () => unwrapDoc(await this.client(props).get(`${BASE}/${id}.json`)));
    if (!doc) return {};
    // Keep the stored text when 3scale's copy means the same document, so formatting never shows as drift.
    const body = looseEqual(parsedBody(props.body), parsedBody(doc.body)) ? props.body : doc.body;
    return { id, props: { ...props, ...fromApi(doc, ATTRIBUTES, props), body, activeDocId: doc.id } };
  }

  async update(id: string, _olds: ActiveDocOutputs, news: ActiveDocInputs) {
    const client = this.client(news);
    await this.sync(client, unwrapDoc(await client.get(`${BASE}/${id}.json`)), news);
    return { outs: { ...news, activeDocId: Number(id) } };
  }

  async delete(id: string, props: ActiveDocOutputs): Promise<void> {
    await this.client(props).deleteIfExists(`${BASE}/${id}.json`);
  }

  private async findBySystemName(client: AdminClient, systemName: string): Promise<any> {
    const data = await client.get(`${BASE}.json`);
    const items: any[] = data?.api_docs ?? data?.active_docs ?? [];
    return items.map(unwrapDoc).find((d) => d.system_name === systemName);
  }

  private validationFlag(inputs: ActiveDocInputs) {
    return inputs.skipSwaggerValidations === undefined
      ? {}
      : { skip_swagger_validations: inputs.skipSwaggerValidations };
  }

  private async sync(client: AdminClient, doc: any, inputs: ActiveDocInputs): Promise<void> {
    const changed = differences(toApi(inputs, ATTRIBUTES), doc);
    if (!looseEqual(parsedBody(inputs.body), parsedBody(doc.body))) changed.body = inputs.body;
    if (hasAny(changed)) await client.put(`${BASE}/${doc.id}.json`, { ...changed, ...this.validationFlag(inputs) });
  }
}

export const activeDocProvider = new ActiveDocProvider();

export interface ActiveDocArgs {
  connection: pulumi.Input<Connection>;
  systemName: pulumi.Input<string>;
  name: pulumi.Input<string>;
  productId?: pulumi.Input<number>;
  body: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  published?: pulumi.Input<boolean>;
  skipSwaggerValidations?: pulumi.Input<boolean>;
}

export class ActiveDoc extends pulumi.dynamic.Resource {
  declare public readonly activeDocId: pulumi.Output<number>;

  constructor(name: string, args: ActiveDocArgs, opts?: pulumi.CustomResourceOptions) {
    super(activeDocProvider, name, { ...args, activeDocId: undefined }, opts, "threescale", "ActiveDoc");
  }
}
