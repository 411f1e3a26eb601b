// Smoke program for the Pulumi counterparts (see run.sh beside it): one resource or provider of each plugin the
// project uses, none of which needs a live server. Kubernetes objects are rendered to a directory, the Keycloak
// provider is only constructed (initialLogin: false, so it never dials its URL), and a dynamic resource exercises
// the pulumi-resource-pulumi-nodejs launcher.
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const config = new pulumi.Config();

const password = new random.RandomPassword("smoke-password", { length: 24, special: false });

const render = new k8s.Provider("render", { renderYamlToDirectory: config.require("renderDir") });
const configMap = new k8s.core.v1.ConfigMap(
  "smoke",
  { metadata: { name: "smoke", namespace: "default" }, data: { hello: "world" } },
  { provider: render },
);

const sso = new keycloak.Provider("sso", {
  url: "http://127.0.0.1:9",
  clientId: "admin-cli",
  username: "admin",
  password: "admin",
  initialLogin: false,
});

const echo: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { message: string }) {
    return { id: `echo-${inputs.message}`, outs: { message: inputs.message } };
  },
};

class Echo extends pulumi.dynamic.Resource {
  constructor(name: string, message: string) {
    super(echo, name, { message }, {});
  }
}

const dynamic = new Echo("smoke-echo", "hello");

export const passwordLength = password.result.apply((r) => r.length);
export const configMapName = configMap.metadata.name;
export const keycloakProvider = sso.urn;
export const dynamicId = dynamic.id;
