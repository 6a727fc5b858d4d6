import { test, expect } from "@playwright/test";
import { openDashboard, publish, text } from "./dashboard_helpers";

const areas = ["Pipeline", "Pub/sub", "HTTP", "WebSocket"];

test("the metrics tab charts every area and the charts move with traffic", async ({ page }) => {
  await openDashboard(page, "metrics");
  for (const area of areas) {
    await expect(page.getByRole("heading", { name: area, exact: true })).toBeVisible();
  }
  for (const kind of ["counter", "sum", "last value", "summary", "distribution"]) {
    await expect(page.locator(".chart-kind", { hasText: kind }).first()).toBeVisible();
  }
  const published = page.getByTestId("value-pubsub.published");
  const before = await published.textContent();
  await publish(page, 500);
  await expect.poll(() => published.textContent(), { timeout: 5_000 }).not.toBe(before);
  const points = Number(await page.getByTestId("chart-pipeline.processed").getAttribute("data-points"));
  await expect
    .poll(async () => Number(await page.getByTestId("chart-pipeline.processed").getAttribute("data-points")), { timeout: 5_000 })
    .toBeGreaterThan(points);
  // The HTTP requests chart counts the dashboard's own polls.
  const requests = await text(page, "value-http.requests");
  await expect.poll(() => text(page, "value-http.requests"), { timeout: 5_000 }).not.toBe(requests);
  await expect(page.getByTestId("chart-http.duration_hist").locator("rect.bar")).toHaveCount(6);
});
