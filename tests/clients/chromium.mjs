// Debian's Chromium as the test drivers start it: headless, no browser download, and none
// of the background connections that this machine's closed network would refuse.
import { chromium } from "playwright-core";

export function launchChromium(executablePath = "/usr/bin/chromium") {
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
