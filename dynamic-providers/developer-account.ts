/**
 * A developer (buyer) account with its admin user, created through the signup endpoint and adopted by username.
 * The admin user's e-mail and password are set at signup only (3scale cannot return a password to compare with);
 * the organisation name is kept in sync.
 *
 * Signup subscribes the new account to the tenant's default plans: porta gives it an application named "API signup"
 * (description "API signup") on every product's default application plan (signups_controller.rb L37-39,
 * signup/plans_with_defaults.rb). Those applications would keep the plans from being deleted (403 "This application
 * plan cannot be deleted! At least one application depends on it."), so create removes them right after the signup,
 * and again whenever it adopts the account (a run that crashed between signup and clean-up is finished by the next).
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { failure, Failure, fieldFailures } from "./threescale/checks";
import { known } from "./threescale/unknown";
import { ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

export interface DeveloperAccountInputs extends ConnectionInputs {
  orgName: string;
  username: string;
  email: string;
  /** Secret. */
  password: string;
}

export interface DeveloperAccountOutputs extends DeveloperAccountInputs {
  accountId: number;
}

const ACCOUNTS = "/admin/api/accounts";

export class DeveloperAccountProvider extends ObjectProvider<DeveloperAccountInputs> {
  protected readonly createOnly = ["username"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "accountId";
  protected readonly envelope = "account";
  protected readonly fields = { orgName: "org_name" };

  protected validate(inputs: DeveloperAccountInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      orgName: { kind: "string", required: true, example: '"Acme Data Science"' },
      username: { kind: "string", required: true, example: '"acme-dev"' },
      email: { kind: "string", required: true, example: '"dev@acme.example.com"' },
      password: { kind: "string", required: true, secret: true, example: "a Pulumi secret of 8+ characters" },
    });
    if (known(inputs.email) && !/^[^@\s]+@[^@\s]+$/.test(String(inputs.email))) {
      failures.push(failure("email", "must be an e-mail address", '"dev@acme.example.com"', inputs.email));
    }
    return failures;
  }

  protected path(_inputs: DeveloperAccountInputs, item: { id: number | string }): string {
    return `${ACCOUNTS}/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: DeveloperAccountInputs) {
    return (await client.find(`${ACCOUNTS}/find.json`, { username: inputs.username }))?.account;
  }

  protected async post(client: AdminClient, inputs: DeveloperAccountInputs) {
    const body = {
      org_name: inputs.orgName,
      username: inputs.username,
      email: inputs.email,
      password: inputs.password,
    };
    return (await client.post("/admin/api/signup.json", body)).account;
  }

  async create(inputs: DeveloperAccountInputs): Promise<pulumi.dynamic.CreateResult> {
    const created = await super.create(inputs);
    await removeSignupApplications(this.client(inputs), Number(created.id));
    return created;
  }
}

/** The name and description porta gives the applications a signup creates (signups_controller.rb L37-39). */
export const SIGNUP_APPLICATION = { name: "API signup", description: "API signup" } as const;

/**
 * Deletes the applications signup made on the account (the program asks for none; it creates its own with the
 * Application resource). Idempotent: none left, no write.
 */
export async function removeSignupApplications(client: AdminClient, accountId: number): Promise<number[]> {
  const path = `${ACCOUNTS}/${accountId}/applications`;
  const apps = await client.list(`${path}.json`, "applications", "application");
  const made = apps.filter(
    (a) => a.name === SIGNUP_APPLICATION.name && a.description === SIGNUP_APPLICATION.description,
  );
  for (const app of made) await client.deleteIfExists(`${path}/${app.id}.json`);
  return made.map((a) => Number(a.id));
}

export const developerAccountProvider = new DeveloperAccountProvider();

export interface DeveloperAccountArgs {
  connection: pulumi.Input<Connection>;
  orgName: pulumi.Input<string>;
  username: pulumi.Input<string>;
  email: pulumi.Input<string>;
  password: pulumi.Input<string>;
}

export class DeveloperAccount extends ThreescaleResource {
  declare public readonly accountId: pulumi.Output<number>;

  constructor(name: string, args: DeveloperAccountArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      developerAccountProvider,
      "DeveloperAccount",
      name,
      { ...args, password: pulumi.secret(args.password) },
      ["accountId"],
      opts,
    );
  }
}
