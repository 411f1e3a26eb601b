/**
 * An existing stack sees no replacement after an upgrade: every resource the shipped stacks of version 0.1 declared
 * (tests/components/fixtures/urns-0.1-<stack>.txt, from fixtures/Pulumi.0.1-<stack>.yaml) is still declared, under its
 * URN or an alias. The 0.1 stacks pointed their models at an empty MinIO (`s3Prefix`), which this version refuses, so
 * the test gives each model a Hugging Face source, the change a user of such a stack makes. Only grouping components
 * may be retired (deleting one touches nothing in the cluster or in 3scale); each is listed.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { runProgram } from "../../scripts/plan/mock-runner";
import { formerUrns } from "../support/former-urns";

/** Components of 0.1 that no longer exist, by type and name; their children moved (aliased). */
const RETIRED_COMPONENTS = [
  // The products, the verification and the portal settings now hang off the platform and the portal.
  "maas:threescale:ThreescaleConfiguration::maas-3scale-config",
];

test.each(["dev", "prod"])("stack %s: every 0.1 resource is still declared (same URN or aliased)", async (stack) => {
  const before = fs
    .readFileSync(path.join(__dirname, "fixtures", `urns-0.1-${stack}.txt`), "utf8")
    .split("\n")
    .filter(Boolean);
  const stackFile = path.join(__dirname, "fixtures", `Pulumi.0.1-${stack}.yaml`);
  const models = (YAML.parse(fs.readFileSync(stackFile, "utf8")).config["maas:models"] as any[]).map(
    ({ s3Prefix: _, ...model }) => ({
      ...model,
      huggingFace: { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" },
    }),
  );
  const run = await runProgram({ stack, stackFile, config: { models }, preview: true });
  const recognised = new Set([...formerUrns(run.resources, stack).values()].flatMap((urns) => [...urns]));
  const retired = (urn: string) => RETIRED_COMPONENTS.some((c) => urn.endsWith(`$${c}`));
  expect(before.filter((urn) => !recognised.has(urn) && !retired(urn))).toEqual([]);
  expect(before.filter(retired)).toHaveLength(RETIRED_COMPONENTS.length);
});
