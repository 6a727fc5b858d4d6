import { test, expect } from "@playwright/test";
import { openDashboard, publish } from "./dashboard_helpers";

test("the pub/sub tab lists topics and subscribers, and their counts move", async ({ page }) => {
  await openDashboard(page, "pubsub");
  const row = page.getByTestId("topic-row").filter({ hasText: "events" });
  await expect(row).toBeVisible();
  await expect(row.locator("td").nth(1)).toHaveText(/^[1-9]\d*$/);
  const pipeline = page.getByTestId("subscriber-row").filter({ hasText: "pipeline" });
  await expect(pipeline).toBeVisible();
  await expect(pipeline).toContainText("block");
  await expect(pipeline.getByRole("meter", { name: "pipeline buffer fill" })).toBeVisible();
  await expect(pipeline).toContainText(/\d[\d,]* \/ [\d,]+ \(\d+ %\)/);
  await expect(pipeline.getByTestId("subscriber-lost")).toHaveText(/^[\d,]+$/);
  const published = row.getByTestId("topic-published");
  const delivered = pipeline.getByTestId("subscriber-delivered");
  const [before, deliveredBefore] = [await published.textContent(), await delivered.textContent()];
  await publish(page, 300);
  await expect.poll(() => published.textContent(), { timeout: 5_000 }).not.toBe(before);
  await expect.poll(() => delivered.textContent(), { timeout: 5_000 }).not.toBe(deliveredBefore);
});

test("a percent-encoded tab in the address opens that tab, in the first paint and once hydrated", async ({ page, request }) => {
  // The server's first paint reads the query too: the tab is already current in the HTML.
  const html = await (await request.get("/dashboard?tab=pub%73ub")).text();
  expect(html).toMatch(/<a href="\/dashboard\?tab=pubsub" aria-current="page"/);
  await openDashboard(page, "pub%73ub");
  await expect(page.getByRole("link", { name: "Pub/sub" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("topic-row").filter({ hasText: "events" })).toBeVisible();
});
