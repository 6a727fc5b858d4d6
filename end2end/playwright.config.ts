import { defineConfig } from "@playwright/test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// The specs run against the release build that `scripts/test.sh` made with cargo-leptos. The
// server binary is started here on its own port, with the site built under target/site.
const root = path.resolve(__dirname, "..");
const port = Number(process.env.PULSE_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
// A second server that needs the operator's token for its destructive controls (access.spec.ts).
export const lockedPort = port + 1;
export const lockedURL = `http://127.0.0.1:${lockedPort}`;
export const operatorToken = "e2e-operator-token-0123456789";
// Two nodes sharing a Redis (cluster.spec.ts), when scripts/test.sh started one.
export const redisURL = process.env.PULSE_E2E_REDIS;
export const clusterURLs = [port + 2, port + 3].map((p) => `http://127.0.0.1:${p}`);
// A fresh data directory per run: the dead-letter queue starts empty, whatever ran before.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulse-e2e-"));

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: [
    server(port, dataDir, {}),
    server(lockedPort, fs.mkdtempSync(path.join(os.tmpdir(), "pulse-e2e-")), { PULSE_ADMIN_TOKEN: operatorToken }),
    ...(redisURL
      ? ["e2e-a", "e2e-b"].map((name, i) =>
          server(port + 2 + i, fs.mkdtempSync(path.join(os.tmpdir(), "pulse-e2e-")), {
            PULSE_BUS: redisURL,
            PULSE_NODE_NAME: name,
          }),
        )
      : []),
  ],
});

function server(port: number, dataDir: string, extra: Record<string, string>) {
  return {
    command: path.join(root, "target/release/server"),
    cwd: root,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      PULSE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_OUTPUT_NAME: "pulse",
      LEPTOS_ENV: "PROD",
      RUST_LOG: "warn",
      PULSE_DATA_DIR: dataDir,
      ...extra,
    },
  };
}
