/**
 * An ActiveDocs (OpenAPI) specification shown in the developer portal, optionally bound to a product. The body is
 * compared as parsed JSON, so formatting and key order never cause an update.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { failure, Failure, fieldFailures } from "./threescale/checks";
import { canonical, looseEqual } from "./threescale/equality";
import { differingBody, hasAny, toApi } from "./threescale/fields";
import { known } from "./threescale/unknown";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

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

const BASE = "/admin/api/active_docs";

function parsedBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export class ActiveDocProvider extends ObjectProvider<ActiveDocInputs> {
  protected readonly createOnly = ["systemName"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "activeDocId";
  protected readonly envelope = "api_doc";
  protected readonly fields = {
    name: "name",
    productId: "service_id",
    description: "description",
    published: "published",
  };

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
    if (known(inputs.body) && typeof inputs.body === "string" && inputs.body.trim() !== "") {
      const parsed = parsedBody(inputs.body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        failures.push(
          failure("body", "must be an OpenAPI document as a JSON object string", '\'{"openapi":"3.0.2",...}\''),
        );
      }
    }
    return failures;
  }

  /** 3scale names the ActiveDocs envelope `api_doc` (older representers used `active_doc`). */
  protected unwrap(data: any): ApiObject | undefined {
    return data?.api_doc ?? data?.active_doc;
  }

  protected path(_inputs: ActiveDocInputs, item: { id: number | string }): string {
    return `${BASE}/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: ActiveDocInputs) {
    const data = await client.get(`${BASE}.json`);
    const items: any[] = data?.api_docs ?? data?.active_docs ?? [];
    return items.map((d) => this.unwrap(d) ?? d).find((d) => d.system_name === inputs.systemName);
  }

  protected async post(client: AdminClient, inputs: ActiveDocInputs) {
    const body = {
      ...toApi(inputs, this.fields),
      system_name: inputs.systemName,
      body: inputs.body,
      ...this.validationFlag(inputs),
    };
    return this.unwrap(await client.post(`${BASE}.json`, body))!;
  }

  /** Keeps the stored text when 3scale's copy means the same document, so formatting never shows as drift. */
  protected refresh(props: Record<string, any>, doc: ApiObject): Record<string, any> {
    const body = looseEqual(parsedBody(props.body), parsedBody(doc.body)) ? props.body : doc.body;
    return { ...super.refresh(props, doc), body };
  }

  protected async sync(client: AdminClient, inputs: ActiveDocInputs, doc: ApiObject): Promise<ApiObject> {
    const body = differingBody(inputs, doc, this.fields);
    if (!looseEqual(parsedBody(inputs.body), parsedBody(doc.body))) body.body = inputs.body;
    if (!hasAny(body)) return doc;
    const answer = await client.put(`${BASE}/${doc.id}.json`, { ...body, ...this.validationFlag(inputs) });
    return this.unwrap(answer) ?? doc;
  }

  private validationFlag(inputs: ActiveDocInputs) {
    return inputs.skipSwaggerValidations === undefined
      ? {}
      : { skip_swagger_validations: inputs.skipSwaggerValidations };
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

export class ActiveDoc extends ThreescaleResource {
  declare public readonly activeDocId: pulumi.Output<number>;

  constructor(name: string, args: ActiveDocArgs, opts?: pulumi.CustomResourceOptions) {
    super(activeDocProvider, "ActiveDoc", name, args, ["activeDocId"], opts);
  }
}
