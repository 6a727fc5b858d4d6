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

/** Calls a server function directly (for set-up and clean-up, not for what a spec asserts). */
export async function rpc(page: Page, endpoint: string, form: Record<string, string> = {}) {
  const res = await page.request.post(`/rpc/${endpoint}`, { form });
  expect(res.ok(), `${endpoint}: ${await res.text()}`).toBeTruthy();
}

/** Puts the shared server back as every spec expects it: simulator stopped, intake flowing,
 * no rate limit, two processors. */
export async function resetControls(page: Page) {
  await rpc(page, "stop_simulator");
  await rpc(page, "set_paused", { paused: "false" });
  await rpc(page, "set_rate_limit");
  await rpc(page, "set_concurrency", { concurrency: "2" });
}

/** The number in a chart's headline or a text like "12.3 %" (first number found). */
export async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  const m = /-?[\d,]+(\.\d+)?/.exec(text);
  return m ? Number(m[0].replace(/,/g, "")) : NaN;
}
