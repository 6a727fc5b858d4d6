import { test, expect } from "@playwright/test";
import { changes, openDashboard, text } from "./dashboard_helpers";

test("the home tab is server-rendered with real process figures", async ({ request }) => {
  const html = await (await request.get("/dashboard")).text();
  expect(html).toContain("Pulse dashboard");
  expect(html).toMatch(/data-testid="home-version">\d+\.\d+\.\d+</);
  expect(html).toMatch(/data-testid="home-rss">[\d.]+ MiB</);
  expect(html).toMatch(/data-testid="home-profile">release</);
});

test("the home tab's live values change over time", async ({ page }) => {
  await openDashboard(page, "home");
  await expect(page.getByRole("link", { name: "Home" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("home-workers")).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId("home-tasks")).toHaveText(/^\d+$/);
  await expect(page.getByTestId("home-cpu")).toHaveText(/^\d+\.\d %$/);
  const uptime = await text(page, "home-uptime");
  await changes(page, "home-uptime", uptime);
  const sample = await text(page, "dash-updated");
  await changes(page, "dash-updated", sample);
});

test("the refresh interval is selectable and a bad one in the address is reported", async ({ page }) => {
  await openDashboard(page, "home");
  const select = page.getByRole("combobox", { name: "Refresh interval" });
  await expect(select.locator("option")).toHaveText(["1 s", "2 s", "5 s", "15 s"]);
  await select.selectOption("2");
  const sample = await text(page, "dash-updated");
  await changes(page, "dash-updated", sample, 6_000);
  await page.goto("/dashboard?refresh=3");
  await expect(page.getByRole("alert")).toContainText("refresh must be one of 1, 2, 5 or 15 seconds");
});

test("the live page links to the dashboard", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Dashboard →" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Pulse dashboard" })).toBeVisible();
});
