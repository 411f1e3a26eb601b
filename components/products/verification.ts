/**
 * Post-deploy verification: a test developer account, an application per model on its verification plan, and a
 * Job per model that calls the predictor and the production gateway with that application's key. The Job waits for
 * the gateway promotion and `pulumi up` fails when any hop fails.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { Application } from "../../dynamic-providers/application";
import { DeveloperAccount } from "../../dynamic-providers/developer-account";
import type { ProductSpec } from "./product-spec";
import { API_KEY_ENV, verificationJob, VerificationTarget } from "./verification-job";

export interface VerifiedModel {
  serving: {
    servedModelName: pulumi.Input<string>;
    inClusterUrl: pulumi.Input<string>;
    /** The predictor must be ready before the Job calls it. */
    inferenceService: pulumi.Resource;
  };
  product: {
    spec: Pick<ProductSpec, "model" | "endpoints">;
    verificationPlanId: pulumi.Input<number>;
    /** The account is created after the plans and deleted before them (3scale refuses to delete a plan in use). */
    plans: pulumi.Resource[];
    gatewayUrl: pulumi.Input<string>;
    /** The Job runs after the promotion and again whenever the promoted version changes. */
    promotion: pulumi.Resource & { productionVersion: pulumi.Output<number | null> };
  };
}

export interface VerificationArgs {
  /** Namespace of the Jobs (the 3scale namespace). */
  namespace: string;
  connection: pulumi.Input<Connection>;
  /** Verify the gateway route's certificate. */
  verifyTls: boolean;
  models: VerifiedModel[];
  k8sProvider?: k8s.Provider;
}

export const VERIFICATION_USERNAME = "maas-verification";

export class Verification extends pulumi.ComponentResource {
  readonly accountId: pulumi.Output<number>;
  readonly jobNames: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:products:Verification", name, {}, opts);
    const { connection } = args;
    const password = new random.RandomPassword(`${name}-password`, { length: 24, special: false }, { parent: this });
    const account = new DeveloperAccount(
      `${name}-account`,
      {
        connection,
        orgName: "MaaS verification",
        username: VERIFICATION_USERNAME,
        email: `${VERIFICATION_USERNAME}@example.com`,
        password: pulumi.secret(password.result),
      },
      { parent: this, dependsOn: args.models.flatMap((m) => m.product.plans) },
    );
    this.accountId = account.accountId;
    const k8sOpts = { parent: this, ...(args.k8sProvider ? { provider: args.k8sProvider } : {}) };

    for (const { serving, product } of args.models) {
      const model = product.spec.model;
      const application = new Application(
        `${name}-${model}-app`,
        {
          connection,
          accountId: account.accountId,
          planId: product.verificationPlanId,
          name: `verification-${model}`,
          description: "Post-deploy smoke test",
        },
        { parent: this, dependsOn: [product.promotion] },
      );
      const secretName = `maas-verify-${model}`.slice(0, 63);
      const keySecret = new k8s.core.v1.Secret(
        `${name}-${model}-key`,
        {
          metadata: { name: secretName, namespace: args.namespace },
          type: "Opaque",
          stringData: { [API_KEY_ENV]: application.userKey },
        },
        { ...k8sOpts, additionalSecretOutputs: ["stringData", "data"] },
      );
      const names = new Set(product.spec.endpoints.map((e) => e.name));
      const manifest = pulumi
        .all([serving.servedModelName, product.gatewayUrl, serving.inClusterUrl, product.promotion.productionVersion])
        .apply(([servedModelName, gatewayUrl, predictorUrl, version]) => {
          const target: VerificationTarget = {
            model,
            servedModelName,
            gatewayUrl,
            predictorUrl,
            listModels: names.has("list_models"),
            completion: names.has("chat_completions") ? "chat" : names.has("completions") ? "text" : "none",
            insecure: !args.verifyTls,
            revision: String(version ?? ""),
          };
          return verificationJob(target, args.namespace, secretName);
        });
      const job = new k8s.batch.v1.Job(
        `${name}-${model}-job`,
        { metadata: manifest.apply((j) => j.metadata), spec: manifest.apply((j) => j.spec) },
        { ...k8sOpts, dependsOn: [product.promotion, keySecret, application, serving.inferenceService] },
      );
      this.jobNames[model] = job.metadata.name;
    }
    this.registerOutputs({ accountId: this.accountId });
  }
}
