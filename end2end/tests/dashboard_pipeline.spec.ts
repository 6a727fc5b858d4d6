import { test, expect } from "@playwright/test";
import { openDashboard, publish } from "./dashboard_helpers";
import { stats } from "./helpers";

test("the graph shows every stage of the running topology", async ({ page }) => {
  await openDashboard(page, "pipeline");
  const graph = page.getByRole("img", { name: "Pipeline topology" });
  await expect(graph).toBeVisible();
  const { pipeline } = await stats(page);
  const names: string[] = pipeline.stages.map((s: { name: string }) => s.name);
  expect(names.length).toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId("stage-node")).toHaveCount(names.length);
  for (const name of names) {
    const node = graph.locator(`[data-stage="${name}"]`);
    await expect(node).toContainText(name);
    await expect(node).toContainText(/msg\/s · p99 .* µs/);
    await expect(node).toContainText(/queue \d+ · busy \d+%/);
    await expect(node.locator("rect")).toHaveAttribute("fill", /^hsl\(\d+, 70%, 42%\)$/);
  }
  // Edges join producer → processors → batcher → batch processors.
  await expect(graph.locator("line.edge")).toHaveCount(
    pipeline.topology.processors.concurrency * (1 + pipeline.topology.batchers.length) +
      pipeline.topology.batchers.reduce((n: number, b: { concurrency: number }) => n + b.concurrency, 0),
  );
});

test("the graph's labels follow the traffic", async ({ page }) => {
  await openDashboard(page, "pipeline");
  const rate = page.locator('[data-stage="producer"] text').nth(1);
  await expect(rate).toHaveText(/msg\/s/);
  // Keep publishing until a sample catches the producer's per-second rate above zero.
  await expect
    .poll(async () => {
      await publish(page, 2_000);
      return rate.textContent();
    }, { timeout: 10_000, intervals: [250] })
    .not.toMatch(/^0 msg\/s/);
});
