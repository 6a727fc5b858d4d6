import { test, expect } from "@playwright/test";
import { changes, openDashboard, text } from "./dashboard_helpers";

test("the OS tab shows load, memory and disk, and they move", async ({ page }) => {
  await openDashboard(page, "home");
  await page.getByRole("link", { name: "OS" }).click();
  await expect(page).toHaveURL(/tab=os/);
  await expect(page.getByRole("link", { name: "OS" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("os-load1")).toHaveText(/^\d+\.\d\d$/);
  await expect(page.getByTestId("os-cpus")).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId("os-mem-total")).toHaveText(/(MiB|GiB)$/);
  await expect(page.getByTestId("os-disk-total")).toHaveText(/(MiB|GiB|TiB)$/);
  await expect(page.getByTestId("os-disk-used")).toHaveText(/^\d+\.\d %$/);
  // Available memory moves by kilobytes from one second to the next.
  const available = await text(page, "os-mem-available");
  await changes(page, "os-mem-available", available, 15_000);
});
