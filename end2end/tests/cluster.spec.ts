import { test, expect, type Page } from "@playwright/test";
import { clusterURLs, redisURL } from "../playwright.config";

// Two nodes sharing the Redis that scripts/test.sh starts (playwright.config.ts): each node's
// dashboard shows the same cluster, both nodes alive, and one total for the events published
// through either.
test.skip(!redisURL, "needs the redis-server that scripts/test.sh starts");

async function openCluster(page: Page, base: string) {
  await page.goto(`${base}/dashboard?tab=cluster`);
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("cluster-node-row")).toHaveCount(2, { timeout: 10_000 });
}

function readings(n: number, sensor: string) {
  return Array.from({ length: n }, (_, i) => ({ sensor: `${sensor}-${i}`, kind: "temperature", value: 20 }));
}

test("two nodes' dashboards show one cluster and one total", async ({ browser }) => {
  const [a, b] = [await browser.newPage(), await browser.newPage()];
  await openCluster(a, clusterURLs[0]);
  await openCluster(b, clusterURLs[1]);
  await expect(a.getByTestId("cluster-node")).toHaveText("e2e-a");
  await expect(b.getByTestId("cluster-node")).toHaveText("e2e-b");
  for (const page of [a, b]) {
    await expect(page.getByTestId("bus-mode")).toHaveText("redis");
    await expect(page.getByTestId("bus-persistence")).toContainText("aof");
    await expect(page.getByTestId("node-status")).toHaveText(["alive", "alive"]);
  }
  const before = Number((await a.getByTestId("cluster-total").getByTestId("ledger-published").textContent())?.replace(/,/g, ""));
  // Publish through each node: the stream is shared, so both totals count all of it.
  for (const [i, base] of clusterURLs.entries()) {
    const res = await a.request.post(`${base}/api/events`, { data: readings(20 + 10 * i, `node-${i}`) });
    expect(res.status()).toBe(202);
  }
  for (const page of [a, b]) {
    const total = page.getByTestId("cluster-total").getByTestId("ledger-published");
    await expect(total).toHaveText(String(before + 50), { timeout: 10_000 });
    await expect(page.getByTestId("cluster-balance")).toContainText("balances", { timeout: 10_000 });
  }
});

test("a control for every node, clicked on one node's page, shows as applied on every node", async ({ browser }) => {
  const [a, b] = [await browser.newPage(), await browser.newPage()];
  await openCluster(a, clusterURLs[0]);
  await openCluster(b, clusterURLs[1]);
  const applied = (page: Page) => page.getByTestId("node-applied");
  await expect(applied(b)).toHaveText([/^flowing · \d+ processors/, /^flowing · \d+ processors/], { timeout: 10_000 });
  await a.getByLabel("Processors", { exact: true }).fill("3");
  await a.getByTestId("all-concurrency").click();
  await expect(a.getByTestId("all-outcome")).toHaveText("Applied here and sent to 1 other node.");
  await a.getByTestId("all-pause").click();
  // Node b's page shows both nodes running what node a's page asked for.
  await expect(applied(b)).toHaveText([/^paused · 3 processors/, /^paused · 3 processors/], { timeout: 10_000 });
  // A bad value is refused where it was typed, and nothing is sent.
  await a.getByLabel("Processors", { exact: true }).fill("0");
  await a.getByTestId("all-concurrency").click();
  await expect(a.getByTestId("all-outcome")).toContainText("between 1 and");
  await b.getByTestId("all-resume").click();
  await b.getByLabel("Processors", { exact: true }).fill("2");
  await b.getByTestId("all-concurrency").click();
  await expect(applied(a)).toHaveText([/^flowing · 2 processors/, /^flowing · 2 processors/], { timeout: 10_000 });
});

test("a failure on one node is in the other node's dead-letter list, and replayed from there", async ({ browser }) => {
  const b = await browser.newPage();
  await b.goto(`${clusterURLs[1]}/`);
  await expect(b.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  await expect(b.getByTestId("connection")).toHaveText("live");
  // Published and failed on node a: out of range.
  const sensor = `xnode-${Date.now()}`;
  const res = await b.request.post(`${clusterURLs[0]}/api/events`, { data: [{ sensor, kind: "pressure", value: 5000 }] });
  expect(res.status()).toBe(202);
  const row = b.getByTestId("dlq-list").locator("li", { hasText: sensor });
  await expect(row).toContainText("pressure 5000 out of range", { timeout: 10_000 });
  const replayedBefore = (await (await b.request.get(`${clusterURLs[0]}/api/cluster`)).json()).total.replayed;
  // Replayed through node b's page: it leaves the one queue, is published again, fails again.
  await row.getByRole("button", { name: /Replay letter/ }).click();
  await expect(b.getByTestId("dlq-outcome")).toHaveText("Replayed 1 letter.");
  await expect
    .poll(async () => (await (await b.request.get(`${clusterURLs[0]}/api/cluster`)).json()).total.replayed, { timeout: 10_000 })
    .toBe(replayedBefore + 1);
  await expect(row).toBeVisible({ timeout: 10_000 });
});
