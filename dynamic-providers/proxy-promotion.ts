/**
 * Deploys a product's configuration to the staging gateway and promotes it to production
 * (`proxy/deploy.json`, `proxy/configs/{env}/latest.json`, `.../promote.json`).
 *
 * `revision` is a hash of the product's desired configuration computed by the component: any change of it runs an
 * update (deploy + promote). `triggers` are the `appliedRevision` outputs of the resources that shape the gateway
 * configuration: they change only when one of them wrote (e.g. repaired drift after a refresh), so the repair is
 * promoted in the same `pulumi up`, and a no-op up makes no call. A refresh reads the live versions; a staging version
 * that production does not run yet shows as a change too. Promotion only happens when the versions differ, so an
 * unchanged product gets no new version.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./threescale/client";
import { productPath } from "./threescale/catalog";
import { failure, Failure, fieldFailures } from "./threescale/checks";
import { latestConfigVersion, promoteLatest } from "./threescale/gateway-config";
import { isUnknown, known } from "./threescale/unknown";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

export interface ProxyPromotionInputs extends ConnectionInputs {
  productId: number;
  revision: string;
  /** Promote the staging configuration to production (default true). */
  promoteToProduction?: boolean;
  /** `appliedRevision` of every resource whose writes change the gateway configuration. */
  triggers?: string[];
}

export class ProxyPromotionProvider extends ThreescaleProvider<ProxyPromotionInputs> {
  protected readonly createOnly = ["productId"];

  protected validate(inputs: ProxyPromotionInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      productId: { kind: "id", required: true, example: "42 (a Product's productId)" },
      revision: { kind: "string", required: true, example: '"3f2a9c" (a hash of the product\'s desired config)' },
      promoteToProduction: { kind: "boolean", example: "true" },
    });
    const triggers: unknown = inputs.triggers;
    if (known(triggers) && !(Array.isArray(triggers) && triggers.every((t) => typeof t === "string" || isUnknown(t)))) {
      failures.push(failure("triggers", "must be a list of strings", '["9c1e0f4a2b7d3e55"] (appliedRevision outputs)'));
    }
    return failures;
  }

  async diff(id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const result = await super.diff(id, olds, news);
    const pending = news.promoteToProduction !== false && olds.stagingVersion !== olds.productionVersion;
    return pending && !result.changes ? { ...result, changes: true } : result;
  }

  async create(inputs: ProxyPromotionInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: String(inputs.productId), outs: await this.deploy(inputs) };
  }

  /** Two reads, the least that tells both versions, sent together. */
  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const client = this.client(props);
    const [stagingVersion, production] = await Promise.all([
      latestConfigVersion(client, props.productId, "sandbox"),
      latestConfigVersion(client, props.productId, "production"),
    ]);
    // create/update leave a staging config behind and 3scale never deletes one: none means the product is gone.
    if (stagingVersion === undefined) return {};
    const productionVersion = production ?? null;
    return { id, props: { ...props, stagingVersion, productionVersion } };
  }

  async update(_id: string, _olds: any, news: ProxyPromotionInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.deploy(news) };
  }

  /** Configurations are history, not owned objects: nothing to delete. */
  async delete(): Promise<void> {}

  private async deploy(inputs: ProxyPromotionInputs): Promise<Record<string, unknown>> {
    const client = this.client(inputs);
    // Always 201, even when nothing was saved: the latest staging version tells what happened.
    await client.post(`${productPath(inputs.productId)}/proxy/deploy.json`);
    const stagingVersion = await latestConfigVersion(client, inputs.productId, "sandbox");
    if (stagingVersion === undefined) {
      throw new Error(
        `3scale product ${inputs.productId} has no staging configuration after deploy: give it a backend usage first`,
      );
    }
    const productionVersion =
      inputs.promoteToProduction === false
        ? ((await latestConfigVersion(client, inputs.productId, "production")) ?? null)
        : await promoteLatest(client, inputs.productId);
    return { ...inputs, stagingVersion, productionVersion };
  }
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const proxyPromotionProvider = new ProxyPromotionProvider();

export interface ProxyPromotionArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  revision: pulumi.Input<string>;
  promoteToProduction?: pulumi.Input<boolean>;
  triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

export class ProxyPromotion extends ThreescaleResource {
  declare public readonly stagingVersion: pulumi.Output<number>;
  declare public readonly productionVersion: pulumi.Output<number | null>;

  constructor(name: string, args: ProxyPromotionArgs, opts?: pulumi.CustomResourceOptions) {
    super(proxyPromotionProvider, "ProxyPromotion", name, args, ["stagingVersion", "productionVersion"], opts);
  }
}
