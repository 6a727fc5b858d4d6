import { expect, test } from "@playwright/test";
import { openLivePage } from "./helpers";

// `/dashboard`'s code is a separate WASM chunk (a `#[lazy]` hydrate function, `cargo leptos
// build --split`). A visitor of `/` must not download it; following the link must fetch it and
// work. Pages are separate documents (no client-side router): links are full loads.

test("the live page loads only the main WASM chunk; the dashboard's is fetched on navigation", async ({ page }) => {
  const wasm: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await openLivePage(page);
  expect(wasm).toEqual(["/pkg/pulse.wasm"]);

  // The dashboard loads the main chunk and its own, then hydrates and polls.
  wasm.length = 0;
  await page.getByRole("link", { name: "Dashboard →" }).click();
  await expect(page.getByRole("heading", { name: "Pulse dashboard" })).toBeVisible();
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
  expect(wasm[0]).toBe("/pkg/pulse.wasm");
  expect(wasm.length).toBeGreaterThan(1);
  expect(wasm.slice(1).every((p) => p.startsWith("/pkg/split_"))).toBeTruthy();
  const sample = (await page.getByTestId("dash-updated").textContent()) ?? "";
  await expect.poll(async () => page.getByTestId("dash-updated").textContent(), { timeout: 10_000 }).not.toBe(sample);
  expect(errors).toEqual([]);

  // Tabs switch in the page: no document load, the address follows, Back goes back.
  let loads = 0;
  page.on("load", () => loads++);
  await page.getByRole("link", { name: "Metrics" }).click();
  await expect(page).toHaveURL(/tab=metrics/);
  await expect(page.getByRole("link", { name: "Metrics" })).toHaveAttribute("aria-current", "page");
  await page.goBack();
  await expect(page.getByRole("link", { name: "Home" })).toHaveAttribute("aria-current", "page");
  expect(loads).toBe(0);

  // And back to the live page: it works, and its stream keeps going.
  await page.getByRole("link", { name: "← live page" }).click();
  await expect(page.getByTestId("connection")).toHaveText("live");
  // Two ticks of its uptime: the page has run for over a second, raising no error meanwhile.
  for (let i = 0; i < 2; i++) {
    const uptime = await page.getByTestId("uptime").textContent();
    await expect.poll(() => page.getByTestId("uptime").textContent(), { timeout: 3_000 }).not.toBe(uptime);
  }
  expect(errors).toEqual([]);
});
