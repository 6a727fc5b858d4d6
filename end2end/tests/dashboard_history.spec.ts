import { test, expect } from "@playwright/test";
import { openDashboard } from "./dashboard_helpers";

const points = async (html: string) => Number(/data-testid="chart-pipeline.processed" data-points="(\d+)"/.exec(html)?.[1] ?? "0");

test("a reload, or a second visitor, sees the chart history at once", async ({ page, browser }) => {
  await openDashboard(page, "metrics");
  const chart = page.getByTestId("chart-pipeline.processed");
  await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
  const before = Number(await chart.getAttribute("data-points"));
  // The server-rendered page already holds the history: no poll has run yet.
  const html = await (await page.request.get("/dashboard?tab=metrics")).text();
  expect(await points(html)).toBeGreaterThanOrEqual(before);
  await page.reload();
  expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(before);
  const line = chart.locator("polyline").first();
  expect(((await line.getAttribute("points")) ?? "").trim().split(/\s+/).length).toBeGreaterThanOrEqual(before - 1);
  const other = await browser.newPage();
  await other.goto("/dashboard?tab=metrics");
  expect(Number(await other.getByTestId("chart-pipeline.processed").getAttribute("data-points"))).toBeGreaterThanOrEqual(before);
  await other.close();
});
