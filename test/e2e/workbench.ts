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
    // One fill instead of typing key by key: every keystroke refilters hundreds of commands,
    // which takes seconds on a slow machine. The `>` prefix keeps the palette in command mode.
    await this.quickInputBox().fill(`>${label}`);
    await this.pickQuickInputItem(label);
  }

  /**
   * Waits until the palette lists a command, which shows that the extension contributing it
   * has been scanned. The workbench is shown before that, and a custom editor clicked earlier
   * opens as plain text.
   */
  async waitForCommand(label: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.openQuickInput();
      await this.quickInputBox().fill(`>${label}`);
      const found = await this.quickInputRow(label)
        .waitFor({ state: 'visible', timeout: 2_000 })
        .then(() => true, () => false);
      await this.page.keyboard.press('Escape');
      if (found) break;
      if (Date.now() > deadline) throw new Error(`The command palette did not list "${label}" within ${timeoutMs} ms.`);
    }

    // Activation runs after the scan, and interactions before it ends can race with it.
    await this.page
      .locator('.statusbar-item', { hasText: 'Activating Extensions' })
      .waitFor({ state: 'hidden', timeout: timeoutMs });
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
    const row = this.quickInputRow(label);
    await row.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await row.click();
  }

  /** Returns the quick pick row whose label is exactly `label`. */
  quickInputRow(label: string): Locator {
    return this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) })
      .first();
  }

  /**
   * Types `text` into an open quick pick and selects the row labeled `text`. The row may
   * come from the extension's onDidChangeValue handler, so pressing Enter right after
   * typing would race with it.
   */
  async typeAndPick(text: string): Promise<void> {
    await this.quickInputBox().fill(text);
    await this.pickQuickInputItem(text);
  }

  /** Types `text` into the open input box and presses Enter. For a quick pick use typeAndPick. */
  async answerQuickInput(text: string): Promise<void> {
    const input = this.quickInputBox();
    await input.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Returns the title, placeholder and message (an input box's prompt) of the open quick input. */
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
    // One evaluation reads every row at once, because the list re-renders while a filter applies.
    return rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? element.textContent ?? ''));
  }

  /**
   * Types `text` into the Problems panel's filter box. The panel renders only the rows in
   * view, so a test narrows the list to the archive it looks at.
   */
  async filterProblems(text: string): Promise<void> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const filter = this.page.locator('.viewpane-filter input, .markers-panel-container .viewpane-filter input').first();
    await filter.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await filter.fill(text);
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
    await this.quickInputBox().fill(channel);
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

  /**
   * Clicks the "Show fixes" light bulb of a Problems row and returns the labels of the menu
   * it opens. This is the way to a quick fix on a read-only document, where Ctrl+. in the
   * editor does nothing.
   */
  async showFixesOfProblem(row: Locator): Promise<string[]> {
    await row.click();
    // The light bulb stays disabled until the code action providers have returned their actions.
    const lightBulb = row.locator('.markers-panel-action-quickfix:not(.disabled)');
    await lightBulb.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await lightBulb.click();

    const items = this.page.locator('.context-view .monaco-menu .action-item .action-label');
    await items.first().waitFor({ state: 'visible', timeout: uiTimeoutMs });
    return items.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? element.textContent ?? ''));
  }

  /** Clicks the entry `label` of the open context menu. */
  async chooseMenuItem(label: string): Promise<void> {
    const item = this.page.locator(`.context-view .monaco-menu .action-item .action-label[aria-label="${label}"]`);
    await item.waitFor({ state: 'visible', timeout: uiTimeoutMs });
    await item.click();
  }

  /** Returns the text of the open modal dialog (an error from a failed command, a confirmation), or undefined. */
  async readDialog(): Promise<string | undefined> {
    const dialog = this.page.locator('.monaco-dialog-box');
    if (!(await dialog.isVisible())) return undefined;
    return dialog.innerText();
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
      // Webviews live in nested iframes, so the workbench's own frame is skipped.
      for (const frame of this.page.frames().filter((candidate) => candidate !== this.page.mainFrame())) {
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
