/**
 * The URNs under which the engine would recognise a registered resource from an earlier state: its own URN, its
 * aliases, and the same name and type under any former URN of its parent. The engine derives a child's aliases from
 * its parent's, also for an alias spec naming a parent (the SDK names the current parent explicitly), see
 * `generateAliases` in pulumi's pkg/resource/deploy/step_generator.go. A state resource none of these match would be
 * deleted and re-created by the next `pulumi up`.
 */
import { type RecordedResource, urnFor } from "../../scripts/plan/mock-runner";

export function formerUrns(resources: RecordedResource[], stack: string): Map<string, Set<string>> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, Set<string>>();
  const of = (r: RecordedResource): Set<string> => {
    const known = memo.get(r.urn);
    if (known) return known;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    const parents: (string | undefined)[] = parent ? [...of(parent)] : [r.parent];
    const urns = new Set<string>([r.urn]);
    for (const p of parents) urns.add(urnFor(stack, p, r.type, r.name));
    for (const alias of r.aliases ?? []) {
      if (alias.urn) {
        urns.add(alias.urn);
        continue;
      }
      const named = alias.parentUrn ? byUrn.get(alias.parentUrn) : undefined;
      const aliasParents = alias.noParent
        ? [undefined]
        : named
          ? [...of(named)]
          : alias.parentUrn
            ? [alias.parentUrn]
            : parents;
      for (const p of aliasParents) urns.add(urnFor(stack, p, alias.type ?? r.type, alias.name ?? r.name));
    }
    memo.set(r.urn, urns);
    return urns;
  };
  return new Map(resources.map((r) => [r.urn, of(r)]));
}
