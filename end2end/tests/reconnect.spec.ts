import { test, expect } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { counter } from "./helpers";

// A server of its own (not the shared one): this spec stops and restarts it while a page is
// open, and the page must say so and come back by itself.
const root = path.resolve(__dirname, "../..");
const port = Number(process.env.PULSE_E2E_PORT ?? 3100) + 50;
const url = `http://127.0.0.1:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulse-e2e-restart-"));

function startServer(): ChildProcess {
  return spawn(path.join(root, "target/release/server"), [], {
    cwd: root,
    stdio: "ignore",
    env: {
      ...process.env,
      PULSE_ADDR: `127.0.0.1:${port}`,
      PULSE_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_OUTPUT_NAME: "pulse",
      LEPTOS_ENV: "PROD",
      RUST_LOG: "warn",
    },
  });
}

async function waitUp() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not come up within 10 s");
}

async function stopServer(server: ChildProcess) {
  if (server.exitCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await exited;
}

test("after the server restarts, the page shows reconnecting… then recovers by itself", async ({ page }) => {
  test.setTimeout(60_000);
  let server = startServer();
  try {
    await waitUp();
    await page.goto(url);
    await expect(page.locator("main[data-hydrated='true']")).toBeVisible({ timeout: 15_000 });
    await expect(page.getByTestId("connection")).toHaveText("live");
    await page.getByLabel("Burst of").fill("300");
    await page.getByRole("button", { name: "Publish burst" }).click();
    await expect.poll(() => counter(page, "published")).toBe(300);

    await stopServer(server);
    await expect(page.getByTestId("connection")).toHaveText("reconnecting…", { timeout: 5_000 });

    server = startServer();
    await waitUp();
    await expect(page.getByTestId("connection")).toHaveText("live", { timeout: 10_000 });
    // The numbers are the new server's (its ledger starts afresh), and they move again.
    await expect.poll(() => counter(page, "published"), { timeout: 5_000 }).toBe(0);
    await page.getByRole("button", { name: "Publish one" }).click();
    await expect(page.getByTestId("publish-outcome")).toHaveText("Published 1 event.");
    await expect.poll(() => counter(page, "published"), { timeout: 3_000 }).toBe(1);
  } finally {
    await stopServer(server);
  }
});
