import type { ModelGraph } from '../../../server/src/graph/graphTypes';
import type { ViewOptions, VisibleLayout, WorkerRequest, WorkerResponse } from './protocol';

/**
 * Runs the layout worker and hands back only the newest result: a request made while an
 * older one is running makes the older result stale, and it is dropped.
 *
 * The worker script arrives base64-encoded in the page and starts from a Blob URL,
 * because a VS Code webview cannot start a worker from its resource URLs, which have a
 * different origin than the webview document.
 */
export class LayoutClient {
  private readonly worker: Worker;
  private latestRequest = 0;

  constructor(
    workerSourceBase64: string,
    private readonly onLayout: (layout: VisibleLayout) => void,
    private readonly onError: (message: string) => void,
  ) {
    const bytes = Uint8Array.from(atob(workerSourceBase64), (character) => character.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
    this.worker = new Worker(url);
    this.worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.onResponse(event.data);
    this.worker.onerror = (event) => this.onError(event.message || 'the layout worker failed');
  }

  setGraph(graph: ModelGraph, sizes: Record<string, [number, number]>): void {
    this.post({ type: 'setGraph', graph, sizes });
  }

  requestLayout(options: ViewOptions): void {
    this.latestRequest++;
    this.post({ type: 'layout', requestId: this.latestRequest, options });
  }

  private post(request: WorkerRequest): void {
    this.worker.postMessage(request);
  }

  private onResponse(response: WorkerResponse): void {
    if (response.requestId !== this.latestRequest) return;
    if (response.type === 'layout') this.onLayout(response.layout);
    else this.onError(response.message);
  }
}
