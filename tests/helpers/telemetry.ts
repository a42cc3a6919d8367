// OpenTelemetry's SDK registered globally with in-memory exporters, so a test file reads back the
// spans and metrics dualstore emitted through @opentelemetry/api. Import it before the calls.
import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

/** A reader the test collects from when it wants (no timer). */
class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Every span finished since the last `spans.reset()`. */
export const spans = new InMemorySpanExporter();
/** `await reader.collect()`: the metrics recorded so far. */
export const reader = new CollectingReader();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
