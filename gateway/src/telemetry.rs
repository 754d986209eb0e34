//! Logs and traces. Logs are JSON lines on stderr; a request's lines carry its request id
//! (the `graphql.request` span's `request.id`). Traces go out over OTLP/HTTP (protobuf) when
//! the standard `OTEL_*` variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (or `OTEL_TRACES_EXPORTER=otlp`), with
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*` and
//! `OTEL_SDK_DISABLED` read by the OpenTelemetry SDK itself.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Spans of the HTTP plumbing, and those the exporter itself makes (exporting spans about
/// exporting would feed itself), are kept out of traces. async-graphql's batch-loader spans
/// (`load_many`, `start_fetch`, `do_load`) stay: the batch's statements hang off them, and a
/// span filtered out here would cut its children loose into traces of their own.
const TRACE_FILTER: &str = "info,hyper=off,hyper_util=off,h2=off,reqwest=off,tower=off,\
opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,opentelemetry_http=off";

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// The installed pipeline; [`Telemetry::shutdown`] flushes spans not yet exported.
#[must_use = "call shutdown() before exiting so the last spans are exported"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown() {
                eprintln!("OpenTelemetry shutdown: {e}");
            }
        }
    }
}

/// Whether the `OTEL_*` variables (read through `lookup`) ask for OTLP trace export.
pub fn otlp_requested(lookup: impl Fn(&str) -> Option<String>) -> bool {
    if lookup("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return false;
    }
    match lookup("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
        Some("none") => false,
        Some("otlp") => true,
        _ => {
            lookup("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
                || lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        }
    }
}

/// Installs JSON logs filtered by `log_filter` (`IZGRAPH_LOG`) and, when requested, the OTLP
/// trace pipeline and the W3C trace-context propagator.
pub fn init(log_filter: &str) -> Result<Telemetry, TelemetryError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::try_new(log_filter).unwrap_or_else(|_| EnvFilter::new("info")));
    let (traces, provider) = if otlp_requested(env) {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        let mut resource = Resource::builder();
        if env("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("izgraph");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("izgraph"))
            .with_filter(EnvFilter::new(TRACE_FILTER));
        (Some(layer), Some(provider))
    } else {
        (None, None)
    };
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()?;
    Ok(Telemetry { provider })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requested(vars: &[(&str, &str)]) -> bool {
        otlp_requested(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn export_follows_the_standard_variables() {
        assert!(!requested(&[]));
        assert!(requested(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318"
        )]));
        assert!(requested(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c/v1/traces"
        )]));
        assert!(requested(&[("OTEL_TRACES_EXPORTER", "otlp")]));
        assert!(!requested(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_TRACES_EXPORTER", "none")
        ]));
        assert!(!requested(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SDK_DISABLED", "true")
        ]));
    }
}
