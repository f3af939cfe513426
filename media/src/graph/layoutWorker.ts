/**
 * The webview's layout worker. It keeps the graph and the measured node sizes, and
 * replies to each layout request with the visible graph laid out.
 */
import type { WorkerRequest, WorkerResponse } from './protocol';
import { GroupIndex } from './visibleGraph';
import { computeVisibleLayout } from './visibleLayout';

/** The parts of a dedicated worker's global scope used here (the project compiles against the DOM library, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse): void;
}

const scope = self as unknown as WorkerScope;
let index: GroupIndex | undefined;
let sizes: Record<string, [number, number]> = {};

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'setGraph') {
    index = new GroupIndex(request.graph);
    sizes = request.sizes;
    return;
  }

  if (!index) {
    scope.postMessage({ type: 'error', requestId: request.requestId, message: 'no graph was sent before the layout request' });
    return;
  }
  try {
    scope.postMessage({ type: 'layout', requestId: request.requestId, layout: computeVisibleLayout(index, sizes, request.options) });
  } catch (error) {
    scope.postMessage({ type: 'error', requestId: request.requestId, message: error instanceof Error ? error.message : String(error) });
  }
};
