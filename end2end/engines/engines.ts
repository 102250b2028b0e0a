// The three browser engines the payer's checkout is proven in, driven
// through WebDriver with selenium-webdriver: Playwright cannot drive
// Debian's Firefox or WebKitGTK builds. Each engine's driver runs as a
// process of this test's own, on a port of its own; a session is made
// through it with capabilities naming Debian's browser binary, so nothing
// is looked up or downloaded (Selenium Manager never runs).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Builder, type WebDriver } from "selenium-webdriver";

export type EngineName = "chromium" | "firefox" | "webkit";

interface Engine {
  /** The WebDriver server, and its arguments given the port. */
  driver: string;
  args: (port: number) => string[];
  capabilities: Record<string, unknown>;
}

const ENGINES: Record<EngineName, Engine> = {
  chromium: {
    driver: "/usr/bin/chromedriver",
    args: (port) => [`--port=${port}`],
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      },
    },
  },
  firefox: {
    // cargo install geckodriver (scripts/setup.sh): on PATH.
    driver: "geckodriver",
    args: (port) => ["--port", String(port)],
    capabilities: {
      browserName: "firefox",
      "moz:firefoxOptions": { binary: "/usr/bin/firefox-esr", args: ["-headless"] },
    },
  },
  webkit: {
    // WebKitGTK's own browser needs a display: scripts/test runs these
    // tests under xvfb-run.
    driver: "/usr/bin/WebKitWebDriver",
    args: (port) => [`--port=${port}`],
    capabilities: {
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": {
        binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        args: ["--automation"],
      },
    },
  },
};

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];

/** A running driver; `session()` opens a browser through it. */
export class Driver {
  private constructor(
    private readonly process: ChildProcess,
    private readonly url: string,
    private readonly engine: Engine,
  ) {}

  static async start(name: EngineName, port: number): Promise<Driver> {
    const engine = ENGINES[name];
    const process = spawn(engine.driver, engine.args(port), { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (process.exitCode !== null) throw new Error(`${engine.driver} exited: ${process.exitCode}`);
      try {
        if ((await fetch(`${url}/status`)).ok) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`${engine.driver} did not answer on ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return new Driver(process, url, engine);
  }

  async session(): Promise<WebDriver> {
    return new Builder().usingServer(this.url).withCapabilities(this.engine.capabilities).build();
  }

  async stop() {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = once(this.process, "exit");
      this.process.kill("SIGTERM");
      await exited;
    }
  }
}
