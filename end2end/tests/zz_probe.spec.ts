import { test } from "@playwright/test";
import { openLivePage } from "./helpers";
test("probe", async ({ page }) => {
  page.on("console", (m) => console.log("CONSOLE", m.type(), m.text().slice(0, 600)));
  page.on("pageerror", (e) => console.log("PAGEERROR", e.message.slice(0, 300), (e.stack ?? "").slice(0, 1500)));
  await openLivePage(page);
  console.log("--- to dashboard");
  await page.getByRole("link", { name: "Dashboard →" }).click();
  await page.waitForTimeout(3000);
  console.log("--- back");
  await page.getByRole("link", { name: "← live page" }).click();
  await page.waitForTimeout(3000);
});
