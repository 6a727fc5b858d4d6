import { test, expect } from "@playwright/test";
import { counter, openLivePage, stats } from "./helpers";

test("the first paint is server-rendered with the current numbers", async ({ page, request }) => {
  const before = await stats(page);
  const html = await (await request.get("/")).text();
  expect(html).toContain("<h1>Pulse</h1>");
  expect(html).toMatch(/data-testid="published">[\d,]+</);
  // The server renders the ledger as it is, not zeros: it is at least what /api/stats said.
  const published = Number(/data-testid="published">([\d,]+)</.exec(html)![1].replace(/,/g, ""));
  expect(published).toBeGreaterThanOrEqual(before.published);
});

test("the page hydrates and its stream goes live", async ({ page }) => {
  await openLivePage(page);
  await expect(page.getByRole("heading", { name: "Pulse" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Publish 1", exact: true })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Publish 1,000" })).toBeEnabled();
});

test("Publish 1,000 moves the counters within a second, without a reload", async ({ page }) => {
  await openLivePage(page);
  const published = await counter(page, "published");
  const acked = (await counter(page, "processed")) + (await counter(page, "failed"));
  await page.getByRole("button", { name: "Publish 1,000" }).click();
  await expect(page.getByTestId("publish-outcome")).toHaveText("Published 1,000 events.");
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 1_000);
  await expect
    .poll(async () => (await counter(page, "processed")) + (await counter(page, "failed")), { timeout: 2_000 })
    .toBe(acked + 1_000);
  await expect(page.getByTestId("in-flight")).toHaveText("0");
  await expect(page.getByTestId("ledger")).toHaveAttribute("data-balanced", "true");
  // Generated traffic is ~5 % out of range: the failures show with their reason.
  await expect(page.getByRole("list", { name: "Why messages failed or were dropped" })).toContainText("out of range");
});

test("Publish 1 adds exactly one event", async ({ page }) => {
  await openLivePage(page);
  const published = await counter(page, "published");
  await page.getByRole("button", { name: "Publish 1", exact: true }).click();
  await expect(page.getByTestId("publish-outcome")).toHaveText("Published 1 event.");
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 1);
});

test("the stream keeps updating without a reload", async ({ page }) => {
  await openLivePage(page);
  const first = await page.getByTestId("uptime").textContent();
  await expect.poll(() => page.getByTestId("uptime").textContent(), { timeout: 2_000 }).not.toBe(first);
  // Events posted by someone else (the HTTP API) show up on this open page.
  const published = await counter(page, "published");
  const res = await page.request.post("/api/events", {
    data: [
      { sensor: "e2e-1", kind: "temperature", value: 21.5 },
      { sensor: "e2e-2", kind: "humidity", value: 140 },
    ],
  });
  expect(res.status()).toBe(202);
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 2);
  await expect(page.getByRole("table", { name: "Per-kind aggregates" })).toContainText("temperature");
});
