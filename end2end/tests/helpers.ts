import { expect, type Page } from "@playwright/test";

/** Opens `/` and waits until the WASM has hydrated the page and the stream is live. */
export async function openLivePage(page: Page) {
  await page.goto("/");
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("connection")).toHaveText("live");
}

/** Reads a counter by its test id, as a number ("1,234" → 1234). */
export async function counter(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  return Number(text.replace(/,/g, ""));
}

/** Reads /api/stats through the page's own origin. */
export async function stats(page: Page) {
  const res = await page.request.get("/api/stats");
  expect(res.ok()).toBeTruthy();
  return res.json();
}
