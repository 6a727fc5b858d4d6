import { test, expect } from "@playwright/test";

// A half-open socket: the connection stays open but frames stop coming, so no close event ever
// tells the page. The server has no way to stall a socket, so this spec stands between the page
// and the server (Playwright's WebSocket routing) and holds the server's frames back.

test("when frames stop on an open socket, the badge says stale and the page reconnects by itself", async ({ page }) => {
  let hold = false;
  let opened = 0;
  const closedByPage = new Set<number>();
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const n = ++opened;
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      if (!hold) ws.send(frame);
    });
    // With a handler set, closing is no longer forwarded by itself: pass it on.
    ws.onClose((code, reason) => {
      closedByPage.add(n);
      server.close({ code, reason });
    });
  });

  await page.goto("/");
  await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveText("live");
  expect(opened).toBe(1);

  hold = true;
  // 20 missed frames (2 s) and the page stops claiming its numbers are live…
  await expect(badge).toHaveText("stale", { timeout: 10_000 });
  await expect(badge).toHaveClass(/badge-down/);
  // …closes the silent socket itself and opens another (whose frames are held back too).
  await expect.poll(() => closedByPage.has(1), { timeout: 5_000 }).toBe(true);
  await expect.poll(() => opened, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
  await expect(badge).toHaveText("stale");

  // Frames flow again: live, and the numbers move.
  hold = false;
  await expect(badge).toHaveText("live", { timeout: 10_000 });
  const uptime = await page.getByTestId("uptime").textContent();
  await expect.poll(() => page.getByTestId("uptime").textContent(), { timeout: 3_000 }).not.toBe(uptime);
});
