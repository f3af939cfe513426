// Drives the code-server workbench in headless Chromium through playwright-core: open it,
// run palette commands, fill in quick inputs, read the Problems panel and the Output view,
// and save screenshots into test-artifacts/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

import { artifactsDir, type CodeServer } from './codeServer';

const chromiumPath = '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps connecting to Google services,
// and on a closed network every attempt ends in a refused connection.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const workbenchTimeoutMs = 90_000;
const uiTimeoutMs = 20_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

export interface OpenWorkbenchOptions {
  /** Extra query parameters, for example `payload` for extension-host tests. */
  query?: Record<string, string>;
  /**
   * Receives every console message of the page. The extension host's console is not among
   * them: code-server does not forward it.
   */
  onConsole?: (text: string) => void;
}

/** One browser tab showing the code-server workbench. */
export class Workbench {
  readonly consoleMessages: string[] = [];

  constructor(
    readonly page: Page,
    readonly server: CodeServer,
  ) {}

  /** Saves a PNG of the whole window to test-artifacts/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Opens the command palette, filters for `label` and runs the entry whose label is exactly `label`. */
  async runCommand(label: string): Promise<void> {
    await this.openQuickInput();
    await this.page.keyboard.type(label);
    await this.pickQuickInputItem(label);
  }

  /** Opens the command palette (F1) and waits for its input box. */
  async openQuickInput(): Promise<void> {
    await this.page.locator('.monaco-workbench').focus();
    await this.page.keyboard.press('F1');
    await this.quickInputBox().waitFor({ state: 'visible', timeout: uiTimeoutMs });
  }

  quickInputBox(): Locator {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  /** Waits for a quick pick row whose label is exactly `label` and selects it. */
  async pickQuickInputItem(label: string): Promise<void> {
    const row = this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await row.click();
  }

  /** Types `text` into the open quick input (an input box or a quick pick filter) and presses Enter. */
  async answerQuickInput(text: string): Promise<void> {
    const input = this.quickInputBox();
    await input.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Title, placeholder and message (an input box's prompt) of the open quick input, for checks and failure messages. */
  async quickInputPrompt(): Promise<string> {
    const widget = this.page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    const title = await widget.locator('.quick-input-title').innerText({ timeout: 1_000 }).catch(() => '');
    const placeholder = (await this.quickInputBox().getAttribute('placeholder')) ?? '';
    const message = await widget.locator('.quick-input-message').innerText({ timeout: 1_000 }).catch(() => '');
    return [title, placeholder, message].filter((part) => part.trim() !== '').join(' | ');
  }

  /** Shows the Problems panel and returns the aria-label of every row (files and markers). */
  async readProblems(): Promise<string[]> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const rows = this.page.locator('.markers-panel .monaco-list-row');
    await this.page.locator('.markers-panel').waitFor({ state: 'visible', timeout: uiTimeoutMs });
    const labels: string[] = [];
    for (const row of await rows.all()) {
      labels.push((await row.getAttribute('aria-label')) ?? (await row.innerText()));
    }
    return labels;
  }

  /** Polls the Problems panel until `accept` returns true for its rows, then returns them. */
  async waitForProblems(accept: (rows: string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let rows: string[] = [];
    while (Date.now() < deadline) {
      rows = await this.readProblems();
      if (accept(rows)) return rows;
      await this.page.waitForTimeout(500);
    }
    throw new Error(`The Problems panel did not reach the expected rows within ${timeoutMs} ms. Last rows:\n${rows.join('\n')}`);
  }

  /**
   * Shows the output channel `channel` in the Output view and returns the lines the editor
   * renders, in order. The editor renders only the lines in view, so a long channel is cut;
   * codeServer.readOutputChannelLogs reads the whole channel from its log file.
   */
  async readOutputChannel(channel: string): Promise<string> {
    await this.runCommand('Output: Show Output Channels...');
    await this.page.keyboard.type(channel);
    await this.pickQuickInputItem(channel);
    const view = this.page.locator('.output-view .view-lines');
    await view.waitFor({ state: 'visible', timeout: uiTimeoutMs });

    // Monaco positions each line absolutely, so DOM order is not line order. It writes spaces as U+00A0.
    const lines = await view.locator('.view-line').evaluateAll((elements) =>
      elements
        .map((element) => ({ top: parseFloat((element as HTMLElement).style.top) || 0, text: element.textContent ?? '' }))
        .sort((a, b) => a.top - b.top)
        .map((line) => line.text),
    );
    return lines.join('\n').replace(/\u00a0/g, ' ');
  }

  /** Returns the aria-label (message and source) of each visible notification toast. */
  async readNotifications(): Promise<string[]> {
    const toasts = this.page.locator('.notification-toast .notification-list-item');
    const texts: string[] = [];
    for (const toast of await toasts.all()) {
      texts.push((await toast.getAttribute('aria-label')) ?? (await toast.innerText()));
    }
    return texts;
  }

  /** Shows the Explorer and clicks the row of a file at the top level of the workspace folder. */
  async openFromExplorer(fileName: string): Promise<void> {
    await this.runCommand('View: Show Explorer');
    const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${fileName}"]`).first();
    await row.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await row.click();
  }

  /** Returns the frame of the webview whose body matches `selector`, waiting until one exists. */
  async findWebviewFrame(selector: string, timeoutMs = uiTimeoutMs): Promise<import('playwright-core').Frame> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const frame of this.page.frames()) {
        if (await frame.locator(selector).count().catch(() => 0)) return frame;
      }
      await this.page.waitForTimeout(250);
    }
    throw new Error(`No webview frame contains ${selector} after ${timeoutMs} ms.`);
  }
}

/** Opens the workbench of `server` in a new tab and waits for `.monaco-workbench`. */
export async function openWorkbench(browser: Browser, server: CodeServer, options: OpenWorkbenchOptions = {}): Promise<Workbench> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  const workbench = new Workbench(page, server);
  page.on('console', (message) => {
    const text = `[${message.type()}] ${message.text()}`;
    workbench.consoleMessages.push(text);
    options.onConsole?.(text);
  });

  let url = server.url;
  for (const [key, value] of Object.entries(options.query ?? {})) {
    url += `&${key}=${encodeURIComponent(value)}`;
  }
  await page.goto(url, { timeout: workbenchTimeoutMs });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: workbenchTimeoutMs });
  return workbench;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
