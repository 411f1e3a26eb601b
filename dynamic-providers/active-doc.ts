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
          failure(
            "body",
            "is Invalid JSON: it must be an OpenAPI document as a JSON object string",
            '\'{"openapi":"3.0.2",...}\'',
          ),
        );
      } else {
        const release = known(inputs.connection) ? inputs.connection.release : undefined;
        failures.push(
          ...documentFailures(parsed as Record<string, any>, release, inputs.skipSwaggerValidations === true),
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

/**
 * What 3scale refuses in an ActiveDoc body before looking at its schema (porta swagger/validator.rb,
 * specification.rb): a version it has no validator for ("Invalid Swagger version": 2.15 knows OpenAPI 3.0 but not
 * 3.1, 2.16 both), and, even with skipSwaggerValidations, a server URL that is not blank nor an absolute
 * http/https/ws/wss URL (`base_path` "is invalid", e.g. a relative "/v1") or that points at localhost.
 */
export function documentFailures(
  doc: Record<string, any>,
  release: "2.15" | "2.16" | undefined,
  skipSwaggerValidations: boolean,
): Failure[] {
  const failures: Failure[] = [];
  const version = String(doc.openapi ?? doc.swagger ?? doc.swaggerVersion ?? "");
  const major = /^(\d+\.\d+)/.exec(version)?.[1];
  const supported = release === "2.15" ? ["1.2", "2.0", "3.0"] : ["1.2", "2.0", "3.0", "3.1"];
  if (!skipSwaggerValidations && major !== undefined && Number(major) >= 1.2 && !supported.includes(major)) {
    failures.push(
      failure(
        "body",
        `has an Invalid Swagger version (${version}): 3scale ${release ?? "2.15/2.16"} validates ` +
          `${supported.filter((v) => v >= "2.0").join(", ")}`,
        '\'{"openapi":"3.0.3",...}\'',
      ),
    );
  }
  const servers: unknown[] = Array.isArray(doc.servers) ? doc.servers.map((s: any) => s?.url) : [];
  for (const url of servers) {
    if (url === undefined || url === null || String(url).trim() === "" || /\{/.test(String(url))) continue;
    const match = /^(https?|wss?):\/\/([^/?#:]+)/i.exec(String(url));
    if (!match) {
      failures.push(
        failure(
          "body",
          `servers: base_path is invalid: ${JSON.stringify(url)} is not an absolute http/https/ws/wss URL`,
          '{"servers":[{"url":"https://model.apps.example.com"}]}',
        ),
      );
    } else if (/^(localhost|127(\.\d{1,3}){3})$/.test(match[2])) {
      failures.push(
        failure(
          "body",
          `servers: base_path can't be localhost (${url})`,
          '{"servers":[{"url":"https://model.apps.example.com"}]}',
        ),
      );
    }
  }
  return failures;
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
