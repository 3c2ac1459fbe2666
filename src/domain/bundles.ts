import { bundleId, type ChangeBundle, type UnbundledChange } from "./change.js";
import { bundleLabel } from "./change-summary.js";

/**
 * Bundles are the connected groups of `requires`, edges taken in both directions: the changes
 * that enable a feature together. Bundles come in the order of their first change; each lists its
 * changes in diff order.
 */
export function bundleChanges(changes: readonly UnbundledChange[]): { bundles: ChangeBundle[]; bundleIds: string[] } {
  const index = new Map<string, number>();
  changes.forEach((change, i) => {
    index.set(change.id, i);
  });
  const parent = changes.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  changes.forEach((change, i) => {
    for (const required of change.requires) {
      const j = index.get(required);
      // Stryker disable next-line ConditionalExpression: equivalent, root(undefined) is undefined and parent[NaN] is never read
      if (j === undefined) continue;
      const a = root(i);
      const b = root(j);
      // the smaller index becomes the root, so a group's root is its first change
      // Stryker disable next-line ConditionalExpression: equivalent, a === b makes parent[a] = a, which it is
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  });

  const members = new Map<number, number[]>();
  changes.forEach((_, i) => {
    const r = root(i);
    const group = members.get(r);
    if (group === undefined) members.set(r, [i]);
    else group.push(i);
  });

  // Stryker disable next-line ArrayDeclaration: equivalent, the preallocation only sizes the array that every index is written to
  const bundleIds = new Array<string>(changes.length);
  const bundles: ChangeBundle[] = [];
  for (const group of members.values()) {
    const changeIds = group.map((i) => changes[i].id);
    const id = bundleId(changeIds);
    for (const i of group) bundleIds[i] = id;
    bundles.push({ id, label: bundleLabel(group.map((i) => changes[i])), changeIds });
  }
  return { bundles, bundleIds };
}
