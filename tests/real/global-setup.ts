/** Starts each `npm run test:real` with a fresh out/real/summary.json. */
import { resetSummary } from "../../tools/real/summary";

export default async function globalSetup(): Promise<void> {
  resetSummary();
}
