import { expect, type Page } from "@playwright/test";

/** Opens a dashboard tab and waits until the page has hydrated (the poller runs from then). */
export async function openDashboard(page: Page, tab = "home") {
  await page.goto(`/dashboard?tab=${tab}`);
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
}

/** The text of an element found by test id. */
export async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).first().textContent()) ?? "";
}

/** Publishes `n` generated-looking readings through the HTTP API. */
export async function publish(page: Page, n: number) {
  const body = Array.from({ length: n }, (_, i) => ({ sensor: `e2e-${i % 17}`, kind: "humidity", value: (i * 7) % 100 }));
  const res = await page.request.post("/api/events", { data: body });
  expect(res.status()).toBe(202);
}

/** Waits until the element's text differs from `before` (a live value moved). */
export async function changes(page: Page, testId: string, before: string, timeout = 10_000) {
  await expect.poll(() => text(page, testId), { timeout }).not.toBe(before);
}
