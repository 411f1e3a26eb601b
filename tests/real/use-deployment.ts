/**
 * One deployment per test file: started before the file's tests, with its `not real:` parts and the counterparts'
 * versions recorded in the summary, and stopped after them.
 */
import { Deployment, DeploymentOptions, startDeployment } from "../../tools/real/deployment";
import { recordCounterparts, say } from "../../tools/real/summary";

const MIN = 60_000;

/** Registers the file's beforeAll/afterAll; the returned function gives the started deployment. */
export function useDeployment(options: DeploymentOptions): () => Deployment {
  let deployment: Deployment | undefined;
  beforeAll(async () => {
    const d = await startDeployment(options);
    deployment = d;
    for (const n of d.env.notReal) say(`not real: ${n}`);
    recordCounterparts({ bins: d.stack.bins, kubernetesVersion: d.env.cp.version, notReal: d.env.notReal });
  }, 5 * MIN);
  afterAll(async () => {
    await deployment?.stop();
  }, 2 * MIN);
  return () => {
    if (!deployment) throw new Error("the deployment did not start (see the file's beforeAll)");
    return deployment;
  };
}
