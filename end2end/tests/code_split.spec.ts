import { expect, test } from "@playwright/test";
import { openLivePage } from "./helpers";

// `/dashboard` is a lazy route: its code is a separate WASM chunk (`cargo leptos build --split`).
// A visitor of `/` must not download it; following the link must fetch it and work.

test("the live page loads only the main WASM chunk; the dashboard's is fetched on navigation", async ({ page }) => {
  const wasm: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await openLivePage(page);
  expect(wasm).toEqual(["/pkg/pulse.wasm"]);

  // Client-side navigation: the router loads the dashboard's chunk, then renders and polls.
  await page.getByRole("link", { name: "Dashboard →" }).click();
  await expect(page.getByRole("heading", { name: "Pulse dashboard" })).toBeVisible();
  expect(wasm.length).toBeGreaterThan(1);
  expect(wasm.slice(1).every((p) => p.startsWith("/pkg/split_"))).toBeTruthy();
  const sample = (await page.getByTestId("dash-updated").textContent()) ?? "";
  await expect.poll(async () => page.getByTestId("dash-updated").textContent(), { timeout: 10_000 }).not.toBe(sample);
  expect(errors).toEqual([]);

  // And back: the live page works again without a reload.
  await page.getByRole("link", { name: "← live page" }).click();
  await expect(page.getByTestId("connection")).toHaveText("live");
  // ... and its stream is the only one: no callback of the first visit's socket is left to
  // run after being dropped (frames arrive ten times a second, so 1.5 s would show it).
  const uptime = await page.getByTestId("uptime").textContent();
  await expect.poll(() => page.getByTestId("uptime").textContent(), { timeout: 3_000 }).not.toBe(uptime);
  await page.waitForTimeout(1_500);
  expect(errors).toEqual([]);
});
