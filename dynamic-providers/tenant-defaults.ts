/**
 * `TenantDefaults`: removes the sample product ("API") and its backend ("API Backend") every new tenant starts with.
 * The clean-up is one way: the tenant is made by this program's own APIManager, so nothing needs the sample back, and
 * delete only forgets the resource (whoever wants a sample product creates one in the admin portal).
 *
 * 3scale refuses to delete a tenant's last product, so this must depend on another product. The sample backend is
 * found through the sample product's backend usage (3scale names it after the product); one that another product
 * also uses stays.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, ThreescaleApiError } from "./threescale/client";
import { BACKENDS_PATH, listBackends, listBackendUsages, listProducts, productPath } from "./threescale/catalog";
import { Failure, fieldFailures } from "./threescale/checks";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { ThreescaleResource, withSecretOutputs } from "./threescale/resource";

export interface TenantDefaultsInputs extends ConnectionInputs {
  removeDefaultProduct: boolean;
  productSystemName: string;
  /** The backend to remove; by default the one the default product uses (3scale gives it the product's name). */
  backendSystemName?: string;
}

/** System names of what this resource deleted. */
export interface RemovedDefaults {
  product?: string;
  backend?: string;
  /** The product's backend, kept because another product still used it. */
  keptBackend?: string;
}

export interface TenantDefaultsOutputs extends TenantDefaultsInputs {
  removed: RemovedDefaults;
}

export class TenantDefaultsProvider extends ThreescaleProvider<TenantDefaultsInputs> {
  protected readonly createOnly = ["productSystemName", "backendSystemName"];

  protected validate(inputs: TenantDefaultsInputs): Failure[] {
    return fieldFailures(inputs, {
      removeDefaultProduct: { kind: "boolean", required: true, example: "true" },
      productSystemName: { kind: "systemName", required: true, example: '"api"' },
      backendSystemName: { kind: "systemName", example: '"api"' },
    });
  }

  async create(inputs: TenantDefaultsInputs): Promise<pulumi.dynamic.CreateResult> {
    const removed = inputs.removeDefaultProduct ? await this.remove(this.client(inputs), inputs) : {};
    return { id: `tenant-defaults-${inputs.productSystemName}`, outs: { ...inputs, removed } };
  }

  /** Nothing to read: what was removed stays removed, and a sample product made again is the admin's own. */
  async read(id: string, props: TenantDefaultsOutputs): Promise<pulumi.dynamic.ReadResult> {
    return { id, props };
  }

  async update(_id: string, olds: TenantDefaultsOutputs, news: TenantDefaultsInputs) {
    const removedNow = news.removeDefaultProduct ? await this.remove(this.client(news), news) : {};
    return { outs: { ...news, removed: { ...olds.removed, ...removedNow } } };
  }

  /** One way: the tenant keeps what it has; the resource is only forgotten. */
  async delete(_id: string, _props: TenantDefaultsOutputs): Promise<void> {}

  /**
   * Deletes the product's backend usages, the product, and the backend unless another product still uses it.
   * Makes no write when they are gone already.
   */
  private async remove(client: AdminClient, inputs: TenantDefaultsInputs): Promise<RemovedDefaults> {
    const removed: RemovedDefaults = {};
    const product = (await listProducts(client)).find((s) => s.system_name === inputs.productSystemName);
    const usages = product ? await listBackendUsages(client, product.id) : [];
    const backend = (await listBackends(client)).find((b) =>
      inputs.backendSystemName === undefined
        ? b.id === defaultBackendId(usages)
        : b.system_name === inputs.backendSystemName,
    );
    if (product) {
      for (const usage of usages) {
        await client.deleteIfExists(`${productPath(product.id)}/backend_usages/${usage.id}.json`);
      }
      await client.deleteIfExists(`${productPath(product.id)}.json`);
      removed.product = product.system_name;
    }
    if (backend) {
      try {
        await client.deleteIfExists(`${BACKENDS_PATH}/${backend.id}.json`);
        removed.backend = backend.system_name;
      } catch (err) {
        // Still used by a product someone else made: it is not a leftover default, so it stays.
        if (!(err instanceof ThreescaleApiError && err.status === 403)) throw err;
        removed.keptBackend = backend.system_name;
      }
    }
    return removed;
  }
}

/**
 * The backend 3scale created with the default product: the one of its first backend usage (lowest id), since the
 * admin may have added others since. Undefined when the product uses none.
 */
export function defaultBackendId(usages: Array<{ id: number; backend_id: number }>): number | undefined {
  const first = [...usages].sort((a, b) => a.id - b.id)[0];
  return first?.backend_id;
}

export const tenantDefaultsProvider = new TenantDefaultsProvider();

export interface TenantDefaultsArgs {
  connection: pulumi.Input<Connection>;
  removeDefaultProduct: pulumi.Input<boolean>;
  productSystemName: pulumi.Input<string>;
  /** Defaults to the backend the default product uses. */
  backendSystemName?: pulumi.Input<string>;
}

export class TenantDefaults extends ThreescaleResource {
  declare public readonly removed: pulumi.Output<RemovedDefaults>;

  constructor(name: string, args: TenantDefaultsArgs, opts?: pulumi.CustomResourceOptions) {
    // Secret: stacks made before the clean-up became one way hold a full copy of the sample product here.
    super(tenantDefaultsProvider, "TenantDefaults", name, args, ["removed"], withSecretOutputs(opts, ["removed"]));
  }
}
