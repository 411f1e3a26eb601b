import { DeveloperAccountProvider, developerAccountProvider } from "../../dynamic-providers/developer-account";
import { lifecycleSuite } from "./lifecycle";
import { developerAccount } from "./support";

describe("DeveloperAccount", () => {
  lifecycleSuite({
    type: "DeveloperAccount",
    shared: developerAccountProvider,
    make: (o) => new DeveloperAccountProvider(o),
    inputs: async () => developerAccount("acme"),
    changed: (i) => ({ ...i, orgName: `${i.orgName} Inc` }),
    drift: (s, id) => (s.accounts.find((a) => a.id === id)!.org_name = "renamed by hand"),
    count: (s, i) => s.accounts.filter((a) => a.username === i.username).length,
    expectApplied: (s, id, i) =>
      expect(s.accounts.find((a) => a.id === id)).toMatchObject({ org_name: i.orgName, email: i.email }),
    badInputs: [
      { what: "e-mail without @", mutate: (i) => ({ ...i, email: "dev.example.test" }), property: "email" },
      { what: "missing password", mutate: (i) => ({ ...i, password: undefined }), property: "password" },
    ],
  });
});
