import { test, expect } from "@playwright/test";
import { openDashboard, publish } from "./dashboard_helpers";

test("the pub/sub tab lists the events topic and its count moves", async ({ page }) => {
  await openDashboard(page, "pubsub");
  const row = page.getByTestId("topic-row").filter({ hasText: "events" });
  await expect(row).toBeVisible();
  await expect(row.locator("td").nth(1)).toHaveText("1");
  const published = row.getByTestId("topic-published");
  const before = await published.textContent();
  await publish(page, 300);
  await expect.poll(() => published.textContent(), { timeout: 5_000 }).not.toBe(before);
});
