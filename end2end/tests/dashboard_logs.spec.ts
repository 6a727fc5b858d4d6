import { test, expect } from "@playwright/test";
import { openDashboard } from "./dashboard_helpers";

test("the logs tab tails the server live and filters by level", async ({ page }) => {
  await openDashboard(page, "logs");
  const tail = page.getByTestId("log-tail");
  const marker = `/api/e2e-missing-${Date.now()}`;
  // A failed request is logged at info by the HTTP middleware.
  expect((await page.request.get(marker)).status()).toBe(404);
  await expect(tail.getByTestId("log-line").filter({ hasText: marker })).toHaveCount(1, { timeout: 5_000 });
  await expect(tail.getByTestId("log-line").filter({ hasText: marker })).toContainText("info");
  await page.getByRole("combobox", { name: "Log level" }).selectOption("warn");
  await expect(tail.getByTestId("log-line").filter({ hasText: marker })).toHaveCount(0, { timeout: 5_000 });
  await page.getByRole("combobox", { name: "Log level" }).selectOption("info");
  await expect(tail.getByTestId("log-line").filter({ hasText: marker })).toHaveCount(1, { timeout: 5_000 });
  const second = `/api/e2e-second-${Date.now()}`;
  await page.request.get(second);
  await expect(tail.getByTestId("log-line").filter({ hasText: second })).toHaveCount(1, { timeout: 5_000 });
});

test("a bad level in the address is reported, not obeyed", async ({ page }) => {
  await page.goto("/dashboard?tab=logs&level=loud");
  await expect(page.getByRole("alert").first()).toContainText("level must be one of error, warn, info, debug, trace");
});
