/**
 * A developer (buyer) account with its admin user, created through the signup endpoint and adopted by username.
 * The admin user's e-mail and password are set at signup only (3scale cannot return a password to compare with);
 * the organisation name is kept in sync.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";
import { fieldFailures, findOrCreate, looseEqual, unlessGone } from "./threescale/provider-helpers";

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

export class DeveloperAccountProvider extends ThreescaleProvider<DeveloperAccountInputs> {
  protected readonly createOnly = ["username"];

  protected validate(inputs: DeveloperAccountInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      orgName: { kind: "string", required: true, example: '"Acme Data Science"' },
      username: { kind: "string", required: true, example: '"acme-dev"' },
      email: { kind: "string", required: true, example: '"dev@acme.example.com"' },
      password: { kind: "string", required: true, secret: true, example: "a Pulumi secret of 8+ characters" },
    });
    if (typeof inputs.email === "string" && !/^[^@\s]+@[^@\s]+$/.test(inputs.email)) {
      failures.push({ property: "email", reason: `must be an e-mail address, e.g. "dev@acme.example.com"` });
    }
    return failures;
  }

  async create(inputs: DeveloperAccountInputs): Promise<pulumi.dynamic.CreateResult> {
    const account = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      async (client) => (await client.find(`${ACCOUNTS}/find.json`, { username: inputs.username }))?.account,
      async (client) =>
        (
          await client.post("/admin/api/signup.json", {
            org_name: inputs.orgName,
            username: inputs.username,
            email: inputs.email,
            password: inputs.password,
          })
        ).account,
    );
    await this.sync(this.client(inputs), account, inputs);
    return { id: String(account.id), outs: { ...inputs, accountId: account.id } };
  }

  async read(id: string, props: DeveloperAccountOutputs): Promise<pulumi.dynamic.ReadResult> {
    const account = await unlessGone(async () => (await this.client(props).get(`${ACCOUNTS}/${id}.json`)).account);
    if (!account) return {};
    return { id, props: { ...props, orgName: account.org_name, accountId: account.id } };
  }

  async update(id: string, _olds: DeveloperAccountOutputs, news: DeveloperAccountInputs) {
    const client = this.client(news);
    await this.sync(client, (await client.get(`${ACCOUNTS}/${id}.json`)).account, news);
    return { outs: { ...news, accountId: Number(id) } };
  }

  async delete(id: string, props: DeveloperAccountOutputs): Promise<void> {
    await this.client(props).deleteIfExists(`${ACCOUNTS}/${id}.json`);
  }

  private async sync(client: AdminClient, account: any, inputs: DeveloperAccountInputs): Promise<void> {
    if (!looseEqual(inputs.orgName, account.org_name)) {
      await client.put(`${ACCOUNTS}/${account.id}.json`, { org_name: inputs.orgName });
    }
  }
}

export const developerAccountProvider = new DeveloperAccountProvider();

export interface DeveloperAccountArgs {
  connection: pulumi.Input<Connection>;
  orgName: pulumi.Input<string>;
  username: pulumi.Input<string>;
  email: pulumi.Input<string>;
  password: pulumi.Input<string>;
}

export class DeveloperAccount extends pulumi.dynamic.Resource {
  declare public readonly accountId: pulumi.Output<number>;

  constructor(name: string, args: DeveloperAccountArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      developerAccountProvider,
      name,
      { ...args, password: pulumi.secret(args.password), accountId: undefined },
      opts,
      "threescale",
      "DeveloperAccount",
    );
  }
}
