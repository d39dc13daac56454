"""OpenTelemetry tracing at the boundaries: aiohttp server, grpc.aio server and client.

Off by default. :func:`configure` installs a tracer provider with the chosen exporter and turns on
the instrumentors, which inject and extract W3C ``traceparent`` on HTTP and in gRPC metadata, so
one CloudWatch call becomes one trace: the gateway's server span (renamed after the AWS operation),
the gRPC client span, and the service's server span. Call it before the aiohttp Application and
the gRPC servers/channels are created (the aiohttp instrumentor patches the class).
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

LOG = logging.getLogger(__name__)
_configured = False


def configure(mode: str, service_name: str, processor: SpanProcessor | None = None) -> bool:
    """Enable tracing. ``mode`` is ``none``, ``otlp`` or ``console``; ``processor`` overrides it (tests).

    Returns True when tracing is on. Safe to call more than once per process (first call wins).
    """
    global _configured
    if _configured:
        return True
    if processor is None:
        if mode == "none":
            return False
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            processor = BatchSpanProcessor(OTLPSpanExporter())
        else:
            processor = BatchSpanProcessor(ConsoleSpanExporter())
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer

    GrpcAioInstrumentorServer().instrument()
    GrpcAioInstrumentorClient().instrument()
    AioHttpServerInstrumentor().instrument()
    _configured = True
    LOG.info("tracing enabled (%s)", mode if processor is None else type(processor).__name__)
    return True


def name_current_span(name: str, **attributes: str) -> None:
    """Rename the active span (the gateway names its server span after the AWS operation)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(name)
        for k, v in attributes.items():
            span.set_attribute(k, v)
