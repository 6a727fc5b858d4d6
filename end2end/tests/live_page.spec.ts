import { test, expect } from "@playwright/test";
import { counter, openLivePage, stats } from "./helpers";

test("the first paint is server-rendered with the current numbers, charts and feed", async ({ page, request }) => {
  // Some traffic first, so there is something to paint.
  await request.post("/api/events", { data: [{ sensor: "first-paint", kind: "humidity", value: 140 }] });
  await expect.poll(async () => (await stats(page)).in_flight).toBe(0);
  const before = await stats(page);
  const html = await (await request.get("/")).text();
  expect(html).toContain("<h1>Pulse</h1>");
  // The server renders the ledger as it is, not zeros: it is at least what /api/stats said.
  const published = Number(/data-testid="published">([\d,]+)</.exec(html)![1].replace(/,/g, ""));
  expect(published).toBeGreaterThanOrEqual(before.published);
  expect(published).toBeGreaterThan(0);
  // The feed and the charts are in the first paint too.
  expect(html).toContain("first-paint");
  expect(html).toMatch(/data-testid="chart-throughput" data-points="\d+"/);
});

test("the page hydrates, its stream goes live and keeps updating without a reload", async ({ page }) => {
  await openLivePage(page);
  await expect(page.getByRole("heading", { name: "Pulse" })).toBeVisible();
  const first = await page.getByTestId("uptime").textContent();
  await expect.poll(() => page.getByTestId("uptime").textContent(), { timeout: 2_000 }).not.toBe(first);
  // Events posted by someone else (the HTTP API) show up on this open page, in the feed too.
  const published = await counter(page, "published");
  const res = await page.request.post("/api/events", {
    data: [
      { sensor: "e2e-1", kind: "temperature", value: 21.5 },
      { sensor: "e2e-2", kind: "humidity", value: 140 },
    ],
  });
  expect(res.status()).toBe(202);
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 2);
  const feed = page.getByTestId("feed");
  await expect(feed.locator("tr", { hasText: "e2e-2" })).toContainText("humidity 140 out of range");
  await expect(feed.locator("tr", { hasText: "e2e-2" })).toHaveAttribute("data-status", "failed");
  await expect(page.getByRole("table", { name: "Per-kind aggregates" })).toContainText("temperature");
});

test("Publish one adds exactly one event", async ({ page }) => {
  await openLivePage(page);
  const published = await counter(page, "published");
  await page.getByRole("button", { name: "Publish one" }).click();
  await expect(page.getByTestId("publish-outcome")).toHaveText("Published 1 event.");
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 1);
});

test("Publish burst moves the counters within a second and the ledger balances", async ({ page }) => {
  await openLivePage(page);
  const published = await counter(page, "published");
  const acked = (await counter(page, "processed")) + (await counter(page, "failed"));
  await page.getByLabel("Burst of").fill("2500");
  await page.getByRole("button", { name: "Publish burst" }).click();
  await expect(page.getByTestId("publish-outcome")).toHaveText("Published 2,500 events.");
  await expect.poll(() => counter(page, "published"), { timeout: 1_000 }).toBe(published + 2_500);
  await expect
    .poll(async () => (await counter(page, "processed")) + (await counter(page, "failed")), { timeout: 3_000 })
    .toBe(acked + 2_500);
  await expect(page.getByTestId("in-flight")).toHaveText("0");
  await expect(page.getByTestId("ledger")).toHaveAttribute("data-balanced", "true");
  // Generated traffic is ~5 % out of range: the failures show with their reason.
  await expect(page.getByRole("list", { name: "Why messages failed or were dropped" })).toContainText("out of range");
});

test("a bad burst size is refused with a visible message and publishes nothing", async ({ page }) => {
  await openLivePage(page);
  const published = await counter(page, "published");
  const outcome = page.getByTestId("publish-outcome");
  await page.getByLabel("Burst of").fill("50000");
  await page.getByRole("button", { name: "Publish burst" }).click();
  await expect(outcome).toContainText("count must be between 1 and 10000, got 50000");
  await expect(outcome).toHaveAttribute("role", "alert");
  await page.getByLabel("Burst of").fill("lots");
  await page.getByRole("button", { name: "Publish burst" }).click();
  await expect(outcome).toContainText('burst size: "lots" is not a whole number');
  expect(await counter(page, "published")).toBe(published);
});

test("every control is reachable by keyboard and has an accessible name", async ({ page }) => {
  await openLivePage(page);
  const names: string[] = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return "";
      const labelled = el.getAttribute("aria-label") ?? (el as HTMLInputElement).labels?.[0]?.textContent;
      return `${el.tagName}:${(labelled ?? el.textContent ?? "").trim()}`;
    });
    names.push(name);
  }
  for (const expected of [
    "BUTTON:Publish one", "INPUT:Burst of", "BUTTON:Publish burst", "INPUT:Rate", "INPUT:Invalid",
    "BUTTON:Start", "BUTTON:Pause intake", "BUTTON:One processor fewer", "BUTTON:One processor more",
    "INPUT:Rate limit", "BUTTON:Crash a processor", "BUTTON:Pause feed", "BUTTON:Kill processor 0",
  ]) {
    expect(names, `${expected} reached by Tab`).toContain(expected);
  }
  expect(names.filter((n) => n.endsWith(":")), "nothing focusable without a name").toEqual([]);
});

test("the layout fits a phone without sideways scrolling and keeps its size while numbers change", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openLivePage(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1360, height: 900 });
  const figure = page.getByTestId("published");
  const card = figure.locator("xpath=ancestor::div[@class='stat']");
  const boxes = async () => ({
    card: await card.boundingBox(),
    counters: await page.getByRole("region", { name: "Pipeline counters" }).boundingBox(),
    controls: await page.getByRole("complementary", { name: "Controls" }).boundingBox(),
  });
  const shown = (await figure.textContent()) ?? "";
  const published = await counter(page, "published");
  const before = await boxes();
  await page.getByLabel("Burst of").fill("2500");
  await page.getByRole("button", { name: "Publish burst" }).click();
  await expect(page.getByTestId("publish-outcome")).toHaveText("Published 2,500 events.");
  // The figure changed on screen…
  await expect.poll(() => counter(page, "published"), { timeout: 3_000 }).toBe(published + 2_500);
  await expect(figure).not.toHaveText(shown);
  // …and nothing around it moved or grew.
  expect(await boxes()).toEqual(before);
});

test("on a wide screen the controls column starts at the top beside the views, however tall they grow", async ({ page }) => {
  await page.setViewportSize({ width: 1360, height: 900 });
  await openLivePage(page);
  // Load: dead letters and failures make the views column much taller than the controls.
  const bad = Array.from({ length: 12 }, (_, i) => ({ sensor: `tall-${i}`, kind: "pressure", value: 9000 + i }));
  expect((await page.request.post("/api/events", { data: bad })).status()).toBe(202);
  await expect(page.getByTestId("dlq-list")).toContainText("tall-11", { timeout: 5_000 });
  const controls = page.getByRole("complementary", { name: "Controls" });
  const views = controls.locator("xpath=following-sibling::div[contains(@class, 'views')]");
  for (const where of ["top", "bottom"] as const) {
    await page.evaluate((w) => window.scrollTo(0, w === "top" ? 0 : document.documentElement.scrollHeight), where);
    await expect.poll(() => page.evaluate(() => window.scrollY > 0)).toBe(where === "bottom");
    const [c, v] = [await controls.boundingBox(), await views.boundingBox()];
    expect(c && v, "both columns are laid out").toBeTruthy();
    expect(v!.height, "the views are taller than the controls").toBeGreaterThan(c!.height + 100);
    expect(c!.x + c!.width, `${where}: controls left of the views`).toBeLessThanOrEqual(v!.x);
    expect(Math.abs(c!.y - v!.y), `${where}: the columns' tops`).toBeLessThanOrEqual(1);
  }
});
