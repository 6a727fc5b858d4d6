import { test, expect } from "@playwright/test";
import path from "node:path";
import { counter, openLivePage, resetControls } from "./helpers";

// The README's screenshots, taken by every end-to-end run so they always show the page as it is:
// a wide screen in the light theme and a phone in the dark theme, with the simulated publisher
// running and some failures to look at.
const out = path.resolve(__dirname, "../../docs/screenshots");

test.afterEach(async ({ page }) => resetControls(page));

for (const [name, width, height, colorScheme] of [
  ["live-wide-light", 1360, 1000, "light"],
  ["live-phone-dark", 390, 844, "dark"],
] as const) {
  test(`screenshot: ${name}`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.setViewportSize({ width, height });
    await openLivePage(page);
    await page.getByLabel("Rate", { exact: true }).fill("300");
    await page.getByLabel("Invalid").fill("10");
    await page.getByTestId("sim-start").click();
    await expect(page.getByTestId("sim-state")).toContainText("Running");
    // Enough traffic to look at: a few seconds of it, with failures and dead letters listed.
    const published = await counter(page, "published");
    await expect.poll(() => counter(page, "published"), { timeout: 15_000 }).toBeGreaterThan(published + 1_200);
    await expect(page.getByRole("list", { name: "Why messages failed or were dropped" })).toContainText("out of range");
    await expect(page.getByTestId("dlq-list").locator("li").first()).toBeVisible();
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: width > 1000 });
  });
}
