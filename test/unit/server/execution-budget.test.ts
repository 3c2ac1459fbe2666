import { GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { describe, expect, it } from "vitest";
import { executionBudget } from "../../../src/server/execution-budget.js";

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { value: { type: GraphQLString, resolve: () => "value" } } }),
});

describe("the execution budget", () => {
  it("starts a query's clock again for one that waited before executing, and leaves an operation without a clock alone", async () => {
    const budget = executionBudget(schema, { ms: 50, fields: 1_000, bytes: 1_000_000 });
    const context: Record<symbol, { deadline: number }> = {};
    // A live event's execution within the budget: its deadline is read while it runs.
    const seen: number[] = [];
    await budget.aroundEvent(context, async () => {
      const [budgetOf] = Object.getOwnPropertySymbols(context);
      const before = context[budgetOf].deadline;
      await new Promise((resolve) => setTimeout(resolve, 30));
      budget.restartClock(context);
      seen.push(before, context[budgetOf].deadline);
      return { data: { value: "value" } };
    });
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(25);
    // No budget on the context (not a query or mutation): nothing to do.
    expect(() => budget.restartClock({})).not.toThrow();
  });
});
