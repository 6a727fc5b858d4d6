import { test, expect } from "@playwright/test";
import { lockedURL, operatorToken } from "../playwright.config";

// A server started with --admin-token (playwright.config.ts): its destructive controls are
// disabled with the reason shown until the visitor unlocks them with the operator's token.
test("controls locked by the operator token say why, unlock with it, and lock again", async ({ page }) => {
  await page.goto(`${lockedURL}/`);
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  const pause = page.getByTestId("pause-toggle");
  await expect(pause).toBeDisabled();
  await expect(page.getByTestId("crash")).toBeDisabled();
  await expect(page.getByTestId("locked-reason")).toContainText("operator token");
  // Publishing is not a destructive control: it stays open.
  await expect(page.getByTestId("publish-one")).toBeEnabled();

  // A wrong token: refused, visibly, still locked.
  await page.getByLabel("Operator token").fill("not-the-operator-token");
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("unlock-refused")).toBeVisible();
  await expect(page.getByTestId("pause-toggle")).toBeDisabled();

  // The right one: the controls work.
  await page.getByLabel("Operator token").fill(operatorToken);
  await page.getByTestId("unlock").click();
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("unlocked")).toBeVisible();
  await expect(page.getByTestId("locked-reason")).toHaveCount(0);
  await expect(page.getByTestId("pause-toggle")).toBeEnabled();
  await page.getByTestId("pause-toggle").click();
  await expect(page.getByTestId("flow-state")).toHaveText("paused");
  await page.getByTestId("pause-toggle").click();
  await expect(page.getByTestId("flow-state")).toHaveText("flowing");

  // Locking again disables them.
  await page.getByTestId("lock").click();
  await expect(page.getByTestId("locked-reason")).toBeVisible();
  await expect(page.getByTestId("pause-toggle")).toBeDisabled();
});
