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
