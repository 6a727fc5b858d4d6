import { test, expect } from "@playwright/test";
import { changes, openDashboard, text } from "./dashboard_helpers";

test("the OS tab shows load, memory and disk, and keeps them current", async ({ page }) => {
  await openDashboard(page, "home");
  await page.getByRole("link", { name: "OS" }).click();
  await expect(page).toHaveURL(/tab=os/);
  await expect(page.getByRole("link", { name: "OS" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("os-load1")).toHaveText(/^\d+\.\d\d$/);
  await expect(page.getByTestId("os-cpus")).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId("os-mem-total")).toHaveText(/(MiB|GiB)$/);
  await expect(page.getByTestId("os-disk-total")).toHaveText(/(MiB|GiB|TiB)$/);
  await expect(page.getByTestId("os-disk-used")).toHaveText(/^\d+\.\d %$/);
  // The figures follow Pulse's own poll: its sample number moves on (twice, so the OS tab has
  // been re-read from a sample taken after it opened) and they are still well-formed.
  for (let i = 0; i < 2; i++) {
    await changes(page, "dash-updated", await text(page, "dash-updated"), 15_000);
  }
  await expect(page.getByTestId("dash-updated")).toHaveText(/^sample #[1-9]\d*$/);
  await expect(page.getByTestId("os-mem-available")).toHaveText(/^[\d,]+ KiB$/);
  await expect(page.getByTestId("os-load1")).toHaveText(/^\d+\.\d\d$/);
});
