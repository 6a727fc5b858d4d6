import { test, expect, type Page } from "@playwright/test";
import { counter, numberIn, openLivePage, resetControls, rpc, stats } from "./helpers";

// Every control on the live page, clicked as a visitor clicks it, asserting what it visibly does.
// The server is shared by all specs: each one leaves the controls as it found them.
test.afterEach(async ({ page }) => resetControls(page));

async function startSimulator(page: Page, rate: string, invalid: string) {
  await page.getByLabel("Rate", { exact: true }).fill(rate);
  await page.getByLabel("Invalid").fill(invalid);
  await page.getByTestId("sim-start").click();
}

test("starting the simulated publisher makes throughput rise; stopping it ends it", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "400", "0");
  await expect(page.getByTestId("sim-outcome")).toHaveText("Simulated publisher running.");
  await expect(page.getByTestId("sim-state")).toContainText("Running: 400 msg/s, 0 % invalid");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBeGreaterThan(100);
  // The throughput chart draws it (the headline reads the last second).
  await expect.poll(() => numberIn(page, "value-throughput"), { timeout: 5_000 }).toBeGreaterThan(100);
  await expect(page.getByRole("button", { name: "Apply" }).first()).toBeVisible();
  await page.getByTestId("sim-stop").click();
  await expect(page.getByTestId("sim-outcome")).toHaveText("Simulated publisher stopped.");
  await expect(page.getByTestId("sim-state")).toContainText("Stopped");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBe(0);
});

test("a rate or invalid share out of range is refused with a visible message", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "5", "0");
  await expect(page.getByTestId("sim-outcome")).toContainText("rate must be between 10 and 2000000 readings per second, got 5");
  await startSimulator(page, "100", "150");
  await expect(page.getByTestId("sim-outcome")).toContainText("invalid share must be between 0 and 100 %, got 150");
  await expect(page.getByTestId("sim-state")).toContainText("Stopped");
});

test("50 % invalid readings make the error rate rise, with reasons in the feed", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "300", "50");
  await expect.poll(() => numberIn(page, "value-error-rate"), { timeout: 6_000 }).toBeGreaterThan(30);
  await expect(page.getByTestId("feed").locator("tr[data-status='failed']").first()).toContainText("out of range");
  await expect(page.getByTestId("chart-error-rate").locator("polyline")).toHaveAttribute("points", /\d/);
});

test("crashing a processor fails that message with the panic shown, and processing goes on", async ({ page }) => {
  await openLivePage(page);
  await page.getByRole("button", { name: "Crash a processor" }).click();
  await expect(page.getByTestId("crash-outcome")).toContainText("its handler panics");
  const crashed = page.getByTestId("feed").locator("tr", { hasText: "crash" }).first();
  await expect(crashed).toHaveAttribute("data-status", "failed", { timeout: 5_000 });
  await expect(crashed).toContainText("simulated crash handling a reading from sensor \"crash\"");
  await expect(page.getByRole("list", { name: "Why messages failed or were dropped" })).toContainText("panic");
  // The pipeline keeps going: the next burst is processed in full, nothing restarted.
  const restarts = await counter(page, "restarts");
  const acked = (await counter(page, "processed")) + (await counter(page, "failed"));
  await page.getByRole("button", { name: "Publish burst" }).click();
  await expect
    .poll(async () => (await counter(page, "processed")) + (await counter(page, "failed")), { timeout: 3_000 })
    .toBe(acked + 1_000);
  expect(await counter(page, "restarts")).toBe(restarts);
});

test("killing a stage restarts it (+1) and the ledger still balances", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "500", "0");
  const row = page.getByTestId("stages").locator("tr[data-stage='processor 0']");
  const restarts = await counter(page, "restarts");
  const before = Number(await row.getByTestId("stage-restarts").textContent());
  await page.getByRole("button", { name: "Kill processor 0" }).click();
  await expect(page.getByTestId("kill-outcome")).toHaveText("Killed processor 0: its supervisor restarted it.");
  await expect(page.getByTestId("restarts")).toHaveText(String(restarts + 1));
  await expect(row.getByTestId("stage-restarts")).toHaveText(String(before + 1));
  await page.getByRole("button", { name: "Kill batcher default" }).click();
  await expect(page.getByTestId("restarts")).toHaveText(String(restarts + 2));
  // Nothing lost: once the publisher stops, everything published is processed or failed.
  await page.getByTestId("sim-stop").click();
  await expect(page.getByTestId("in-flight")).toHaveText("0", { timeout: 5_000 });
  await expect(page.getByTestId("ledger")).toHaveAttribute("data-balanced", "true");
  const s = await stats(page);
  expect(s.published).toBe(s.processed + s.failed + s.dropped);
});

test("pause takes throughput to 0 while messages wait; resume lets them through", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "300", "0");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBeGreaterThan(50);
  await page.getByRole("button", { name: "Pause intake" }).click();
  await expect(page.getByTestId("flow-state")).toHaveText("paused");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBe(0);
  await expect.poll(() => counter(page, "in-flight"), { timeout: 3_000 }).toBeGreaterThan(100);
  await page.getByRole("button", { name: "Resume intake" }).click();
  await expect(page.getByTestId("flow-state")).toHaveText("flowing");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBeGreaterThan(50);
  await expect.poll(() => counter(page, "in-flight"), { timeout: 5_000 }).toBeLessThan(100);
});

test("processor concurrency goes up and down, and not below one", async ({ page }) => {
  await openLivePage(page);
  await expect(page.getByTestId("concurrency")).toHaveText("2");
  await page.getByRole("button", { name: "One processor more" }).click();
  await expect(page.getByTestId("concurrency")).toHaveText("3");
  await expect(page.getByTestId("concurrency-outcome")).toHaveText("Concurrency changed (was 2).");
  await expect(page.getByTestId("stages").locator("tr[data-stage='processor 2']")).toBeVisible();
  await page.getByRole("button", { name: "One processor fewer" }).click();
  await page.getByRole("button", { name: "One processor fewer" }).click();
  await expect(page.getByTestId("concurrency")).toHaveText("1");
  await page.getByRole("button", { name: "One processor fewer" }).click();
  await expect(page.getByTestId("concurrency-outcome")).toContainText("concurrency must be between 1 and 16");
  await expect(page.getByTestId("concurrency")).toHaveText("1");
});

test("a rate limit caps throughput, a bad one is refused, lifting it restores the flow", async ({ page }) => {
  await openLivePage(page);
  await page.getByLabel("Rate limit").fill("none");
  await page.getByTestId("rate-limit-apply").click();
  await expect(page.getByTestId("rate-limit-outcome")).toContainText('rate limit: "none" is not a whole number');
  await page.getByLabel("Rate limit").fill("100");
  await page.getByTestId("rate-limit-apply").click();
  await expect(page.getByTestId("rate-limit-state")).toHaveText("Limited to 100 per 1,000 ms");
  const acked = async () => (await counter(page, "processed")) + (await counter(page, "failed"));
  const before = await acked();
  await startSimulator(page, "400", "0");
  // 200 acknowledged at 100 a second: the limited flow has run for two seconds.
  await expect.poll(acked, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 200);
  await expect.poll(() => counter(page, "throughput"), { timeout: 3_000 }).toBeGreaterThan(50);
  expect(await counter(page, "throughput")).toBeLessThanOrEqual(220);
  await page.getByTestId("rate-limit-lift").click();
  await expect(page.getByTestId("rate-limit-state")).toHaveText("No rate limit");
  await expect.poll(() => counter(page, "throughput"), { timeout: 5_000 }).toBeGreaterThan(250);
});

test("the feed can be paused to read it while traffic flows, then resumed", async ({ page }) => {
  await openLivePage(page);
  await startSimulator(page, "200", "20");
  const feed = page.getByTestId("feed").locator("tbody");
  await expect(feed.locator("tr").first()).toBeVisible({ timeout: 5_000 });
  await page.getByRole("button", { name: "Pause feed" }).click();
  const frozen = await feed.textContent();
  await expect(page.getByTestId("feed-state")).toContainText("paused");
  // Newer messages have arrived (the page counts them) and the list on screen has not moved.
  await expect.poll(() => numberIn(page, "feed-state")).toBeGreaterThan(0);
  expect(await feed.textContent()).toBe(frozen);
  await page.getByRole("button", { name: "Resume feed" }).click();
  await expect.poll(() => feed.textContent(), { timeout: 3_000 }).not.toBe(frozen);
});

test("dead letters are listed with their reason and replayed", async ({ page }) => {
  await openLivePage(page);
  const res = await page.request.post("/api/events", {
    data: [
      { sensor: "dlq-1", kind: "pressure", value: 5000 },
      { sensor: "dlq-2", kind: "pressure", value: 6000 },
    ],
  });
  expect(res.status()).toBe(202);
  const list = page.getByTestId("dlq-list");
  await expect(list).toContainText("dlq-2 pressure 6000", { timeout: 5_000 });
  await expect(list.locator("li", { hasText: "dlq-2" })).toContainText("pressure 6000 out of range");
  // A new letter joins the list without redrawing the rows already there (no click lost).
  const kept = await list.locator("li", { hasText: "dlq-1" }).getByRole("button").elementHandle();
  await page.request.post("/api/events", { data: [{ sensor: "dlq-3", kind: "pressure", value: 7000 }] });
  await expect(list).toContainText("dlq-3 pressure 7000", { timeout: 5_000 });
  expect(await kept!.evaluate((b) => b.isConnected)).toBe(true);
  // One letter replayed by its own button: published again.
  const before = await counter(page, "published");
  await list.locator("li", { hasText: "dlq-3" }).getByRole("button", { name: /Replay letter/ }).click();
  await expect(page.getByTestId("dlq-outcome")).toHaveText("Replayed 1 letter.");
  await expect.poll(() => counter(page, "published"), { timeout: 3_000 }).toBe(before + 1);
  await expect(page.getByTestId("dlq-counts")).toContainText("· 1 replayed");
  const published = before + 1;
  await page.getByRole("button", { name: "Replay all" }).click();
  await expect(page.getByTestId("dlq-outcome")).toContainText(/Replayed \d+ letters?\./);
  const replayed = await numberIn(page, "dlq-outcome");
  expect(replayed).toBeGreaterThanOrEqual(2);
  // Replayed letters are published again (and, still out of range, fail again).
  await expect.poll(() => counter(page, "published"), { timeout: 3_000 }).toBe(published + replayed);
  await expect(page.getByTestId("dlq-counts")).toContainText(`${replayed + 1} replayed`);
  await expect(list.locator("li", { hasText: "dlq-2" })).toBeVisible({ timeout: 5_000 });
  await rpc(page, "purge_dead_letters");
});
