//! Static checks of the deployment artifacts under `deploy/`: the Dockerfile, the compose
//! stack, the collector and load-balancer configuration, and the Helm chart. No container
//! engine, Helm binary or network is used: everything is read from the tree.
//!
//! What is checked:
//! - Every YAML file under `deploy/` (except the chart's templates) parses, with YAML merge
//!   keys (`<<:`) applied as compose applies them.
//! - Every environment variable handed to the gateway — the Dockerfile's `ENV`, the
//!   `environment:` of each compose service running the izgraph image, the chart's
//!   `config:` and `secrets:` keys and the `env:` names in its templates — is one the gateway
//!   reads. The names it reads are scanned from `gateway/src` (the first string literal
//!   passed to `lookup`, `env`, `var`, `number` or `limit`), plus a short list of variables
//!   the OpenTelemetry SDK reads itself.
//! - The gateway's own parser (`Settings::from_lookup`) accepts the environment each compose
//!   service gets (image `ENV` overlaid with compose's `environment:`, `${VAR:-default}`
//!   replaced by its default) and the chart's production example (`ci/production-values.yaml`
//!   merged over `values.yaml`), and these configure what a deployment needs: PostgreSQL,
//!   Redis, one shared dev key (compose) or an external issuer (chart), drains that fit in
//!   the grace periods.
//! - The chart's templates are well-formed Go templates: every action is closed, comments
//!   are closed, parentheses balance, `if`/`range`/`with`/`define`/`block` pair with `end`,
//!   `else` sits in an `if`/`with`/`range`, every `include`/`template` names a `define`d
//!   template, every `.Values.a.b` path exists in `values.yaml`, and `.Values` is not used
//!   bare where `with`/`range` has rebound the dot.
//! - The chart has its objects (Deployment with the `/healthz` and `/readyz` probes,
//!   Service, HPA `autoscaling/v2`, PDB `policy/v1`, NetworkPolicy, ConfigMap, Secret with
//!   `existingSecret`, optional ServiceMonitor), runs non-root with a read-only root
//!   filesystem and no capabilities, and its grace period exceeds the configured drain.
//! - The image runs as a numeric non-root user, probes itself with `izgraph healthcheck`, and
//!   the build uses `--locked` and cache mounts.
//!
//! What is not checked: the templates are not rendered (no Helm here, and a home-made
//! renderer could hide the errors it is meant to find), so neither the YAML they produce nor
//! the Kubernetes schemas of the objects nor sprig function names are verified: run
//! `helm lint` and `helm template ... | kubeconform` for that (deploy/README.md). The images
//! are not built and the stack is not started; the collector's, Caddy's and Jaeger's own
//! option names are only as good as their comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gateway::config::Settings;
use serde_yaml_ng::{Mapping, Value};

// ------------------------------------------------------------------------------------------
// Reading the tree.

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the gateway crate sits in the workspace")
        .to_path_buf()
}

fn deploy(relative: &str) -> PathBuf {
    root().join("deploy").join(relative)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Files under `dir` (recursively) that `keep` accepts, in a stable order.
fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("listing {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if keep(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Resolves YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`) the way compose does: keys of
/// the mapping itself win, then the sources in order. Children are resolved first, so a
/// source that has merge keys of its own is flattened before it is merged.
/// (`Value::apply_merge` leaves such nested merge keys in place.)
fn resolve_merge_keys(value: &mut Value) {
    match value {
        Value::Mapping(mapping) => {
            for (_, child) in mapping.iter_mut() {
                resolve_merge_keys(child);
            }
            if let Some(merged) = mapping.remove("<<") {
                let sources = match merged {
                    Value::Mapping(source) => vec![source],
                    Value::Sequence(list) => list
                        .into_iter()
                        .map(|v| match v {
                            Value::Mapping(source) => source,
                            other => panic!("a merge key lists a non-mapping: {other:?}"),
                        })
                        .collect(),
                    other => panic!("a merge key's value is not a mapping: {other:?}"),
                };
                for source in sources {
                    for (k, v) in source {
                        if !mapping.contains_key(&k) {
                            mapping.insert(k, v);
                        }
                    }
                }
            }
        }
        Value::Sequence(list) => list.iter_mut().for_each(resolve_merge_keys),
        _ => {}
    }
}

/// Every document of a YAML file, merge keys resolved.
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let mut value: Value = serde::Deserialize::deserialize(document)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", relative(path)));
        resolve_merge_keys(&mut value);
        documents.push(value);
    }
    documents
}

fn yaml(path: &Path) -> Value {
    let mut documents = yaml_documents(path);
    assert_eq!(
        documents.len(),
        1,
        "{} should hold exactly one YAML document",
        relative(path)
    );
    documents.remove(0)
}

/// `value.a.b.c` for `path` "a.b.c".
fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn str_at<'v>(value: &'v Value, path: &str, origin: &str) -> &'v str {
    at(value, path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{origin}: `{path}` should be a string"))
}

fn u64_at(value: &Value, path: &str, origin: &str) -> u64 {
    at(value, path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{origin}: `{path}` should be a whole number"))
}

/// A YAML scalar as the string an environment variable would hold.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn mapping<'v>(value: &'v Value, path: &str, origin: &str) -> &'v Mapping {
    at(value, path)
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{origin}: `{path}` should be a mapping"))
}

fn keys(m: &Mapping) -> impl Iterator<Item = &str> {
    m.keys().filter_map(Value::as_str)
}

// ------------------------------------------------------------------------------------------
// The variables the gateway reads.

/// Read by the OpenTelemetry SDK (opentelemetry_sdk, opentelemetry-otlp over HTTP) itself,
/// not by izgraph's code, so the source scan cannot see them. Only the trace-related ones
/// the README's Configuration table points to: the gateway exports no metrics or logs over
/// OTLP, and gzip compression is not compiled in.
const OTEL_SDK_VARIABLES: &[&str] = &[
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
];

/// Functions whose first string-literal argument is the name of a variable they read:
/// `lookup("X")` and `env("X")` (the closures over the environment in config.rs and
/// telemetry.rs), `std::env::var("X")`, and config.rs's `number(lookup, "X", ..)` and
/// `limit("X", ..)` helpers.
const READERS: &[&str] = &["lookup", "env", "var", "var_os", "number", "limit"];

fn is_variable_name(s: &str) -> bool {
    s.len() > 2
        && s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The first string literal among the arguments of a call whose `(` was just consumed, or
/// `None` when the call closes without one.
fn first_literal_argument(arguments: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in arguments.char_indices() {
        match c {
            '"' => {
                let rest = &arguments[i + 1..];
                return rest.find('"').map(|end| &rest[..end]);
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// The variable names read in one source file: reader calls, and clap's `env = "X"`.
fn scan_source(source: &str, names: &mut BTreeSet<String>) {
    for reader in READERS {
        let call = format!("{reader}(");
        let mut from = 0;
        while let Some(found) = source[from..].find(&call) {
            let start = from + found;
            from = start + call.len();
            let part_of_longer_name = source[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if part_of_longer_name {
                continue;
            }
            if let Some(name) = first_literal_argument(&source[from..]) {
                if is_variable_name(name) {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    for attribute in source.split("env = \"").skip(1) {
        if let Some((name, _)) = attribute.split_once('"') {
            if is_variable_name(name) {
                names.insert(name.to_owned());
            }
        }
    }
}

/// Scanned from `gateway/src`.
fn names_in_gateway_source() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let sources = files_under(&root().join("gateway/src"), &|p| {
        p.extension().is_some_and(|e| e == "rs")
    });
    assert!(!sources.is_empty(), "no sources under gateway/src");
    for file in sources {
        scan_source(&read(&file), &mut names);
    }
    names
}

fn known_variables() -> BTreeSet<String> {
    let mut names = names_in_gateway_source();
    names.extend(OTEL_SDK_VARIABLES.iter().map(|s| (*s).to_owned()));
    names
}

/// Fails with every `(where, name)` whose name the gateway does not read.
fn assert_all_known(given: &[(String, String)]) {
    let known = known_variables();
    let unknown: Vec<String> = given
        .iter()
        .filter(|(_, name)| !known.contains(name))
        .map(|(origin, name)| format!("  {name}  (set in {origin})"))
        .collect();
    assert!(
        unknown.is_empty(),
        "variables handed to the gateway that it never reads (a typo, or a setting that was \
         renamed or removed):\n{}\nnames it reads: {}",
        unknown.join("\n"),
        known.into_iter().collect::<Vec<_>>().join(" ")
    );
}

#[test]
fn the_source_scan_finds_the_settings() {
    let names = names_in_gateway_source();
    // One of each way the gateway reads a variable, so a change in how config.rs is written
    // that blinds the scan fails here rather than letting everything through.
    for expected in [
        "IZGRAPH_LISTEN",                  // lookup("..")
        "DATABASE_URL",                    // lookup("..")
        "IZGRAPH_LOG",                     // std::env::var("..") in main.rs
        "IZGRAPH_CACHE_TTL_SECONDS",       // number(lookup, "..", ..)
        "IZGRAPH_SHUTDOWN_DELAY_SECONDS",  // number(&lookup, "..", ..)
        "IZGRAPH_MAX_DEPTH",               // limit("..", ..)
        "IZGRAPH_INTROSPECTION_CLIENT_ID", // lookup("..") in a tuple
        "OTEL_SDK_DISABLED",               // lookup("..") in telemetry.rs
    ] {
        assert!(
            names.contains(expected),
            "the scan of gateway/src missed {expected}; found: {names:?}"
        );
    }
    assert!(!names.contains("IZGRAPH_TYPO"));
}

// ------------------------------------------------------------------------------------------
// The Dockerfile.

/// One instruction: its keyword (upper case), its arguments with continuation lines joined,
/// and the build stage it belongs to (0 = the first `FROM`).
struct Instruction {
    keyword: String,
    arguments: String,
    stage: usize,
}

fn dockerfile() -> (String, Vec<Instruction>) {
    let text = read(&deploy("Dockerfile"));
    let mut instructions = Vec::new();
    let mut stage = 0usize;
    let mut stages_seen = 0usize;
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        // Comment lines (and parser directives) are dropped, also inside a continuation.
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(continued) = trimmed.strip_suffix('\\') {
            pending.push_str(continued);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let full = std::mem::take(&mut pending);
        let (keyword, arguments) = full.split_once(char::is_whitespace).unwrap_or((&full, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage = stages_seen;
            stages_seen += 1;
        }
        instructions.push(Instruction {
            keyword,
            arguments: arguments.trim().to_owned(),
            stage,
        });
    }
    assert!(
        pending.is_empty(),
        "the Dockerfile ends inside a continuation"
    );
    (text, instructions)
}

/// Whitespace-separated words, double quotes grouping (and removed).
fn words(arguments: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in arguments.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// The `ENV` variables of the final stage (what a container of the image starts with).
fn image_environment() -> BTreeMap<String, String> {
    let (_, instructions) = dockerfile();
    let last = instructions.iter().map(|i| i.stage).max().unwrap_or(0);
    let mut env = BTreeMap::new();
    for i in instructions
        .iter()
        .filter(|i| i.keyword == "ENV" && i.stage == last)
    {
        let words = words(&i.arguments);
        if words.first().is_some_and(|w| !w.contains('=')) {
            // The legacy form, `ENV NAME value with spaces`.
            env.insert(words[0].clone(), words[1..].join(" "));
        } else {
            for w in words {
                let (name, value) = w
                    .split_once('=')
                    .unwrap_or_else(|| panic!("ENV `{w}` is not NAME=value"));
                env.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    env
}

/// The exec-form JSON array of an instruction (`CMD ["a", "b"]`), after any `--flag`s.
fn exec_form(arguments: &str) -> Vec<String> {
    let start = arguments
        .find('[')
        .unwrap_or_else(|| panic!("`{arguments}` is not in exec form: signals need it"));
    serde_json::from_str(&arguments[start..])
        .unwrap_or_else(|e| panic!("`{arguments}` is not a JSON array: {e}"))
}

/// The final stage's numeric uid (`USER 65532:65532` gives 65532).
fn image_uid() -> u64 {
    let (_, instructions) = dockerfile();
    let last = instructions.iter().map(|i| i.stage).max().unwrap_or(0);
    let user = instructions
        .iter()
        .rev()
        .find(|i| i.keyword == "USER" && i.stage == last)
        .expect("the final stage of deploy/Dockerfile sets USER");
    let uid = user.arguments.split(':').next().unwrap_or_default();
    // Numeric, because Kubernetes' runAsNonRoot cannot check a user name.
    uid.parse().unwrap_or_else(|_| {
        panic!(
            "USER `{}` should be a numeric uid[:gid] so runAsNonRoot can verify it",
            user.arguments
        )
    })
}

#[test]
fn the_image_is_built_locked_and_runs_unprivileged() {
    let (text, instructions) = dockerfile();
    assert!(
        text.starts_with("# syntax=docker/dockerfile:1"),
        "the Dockerfile should start with the BuildKit syntax directive (cache mounts need it)"
    );
    let stages: Vec<&Instruction> = instructions
        .iter()
        .filter(|i| i.keyword == "FROM")
        .collect();
    assert!(
        stages.len() >= 2,
        "a multi-stage build: builder and runtime"
    );
    assert!(
        stages[0].arguments.contains("rust:") && stages[0].arguments.contains(" AS builder"),
        "the first stage builds on the official Rust image, `AS builder`: {}",
        stages[0].arguments
    );
    let last = stages.len() - 1;
    let build = instructions
        .iter()
        .find(|i| i.keyword == "RUN" && i.arguments.contains("cargo build"))
        .expect("a RUN with cargo build");
    for needed in [
        "--release",
        "--locked",
        "--bin izgraph",
        "--mount=type=cache,target=/usr/local/cargo/registry",
        "--mount=type=cache,target=/src/target",
    ] {
        assert!(
            build.arguments.contains(needed),
            "the cargo build should use {needed}: {}",
            build.arguments
        );
    }
    assert!(build.stage < last, "the build runs in the builder stage");

    let uid = image_uid();
    assert_ne!(uid, 0, "the image must not run as root");

    let final_stage = |keyword: &str| -> Vec<&Instruction> {
        instructions
            .iter()
            .filter(|i| i.keyword == keyword && i.stage == last)
            .collect()
    };
    let entrypoint = exec_form(
        &final_stage("ENTRYPOINT")
            .last()
            .expect("an ENTRYPOINT")
            .arguments,
    );
    assert_eq!(entrypoint, ["/usr/local/bin/izgraph"]);
    let cmd = exec_form(&final_stage("CMD").last().expect("a CMD").arguments);
    assert_eq!(cmd, ["serve"]);
    let healthcheck = final_stage("HEALTHCHECK");
    let healthcheck = healthcheck.last().expect("a HEALTHCHECK");
    assert_eq!(
        exec_form(&healthcheck.arguments),
        ["/usr/local/bin/izgraph", "healthcheck"],
        "the image has no curl: it probes itself"
    );
    assert!(
        final_stage("COPY")
            .iter()
            .any(|c| c.arguments.contains("--from=builder")
                && c.arguments.ends_with(" /usr/local/bin/izgraph")),
        "the binary is copied from the builder to /usr/local/bin/izgraph"
    );

    let env = image_environment();
    let settings = Settings::from_lookup(|k| env.get(k).filter(|v| !v.is_empty()).cloned())
        .unwrap_or_else(|e| panic!("the image's ENV is refused by the gateway: {e}"));
    assert!(
        settings.listen.ip().is_unspecified(),
        "IZGRAPH_LISTEN must bind all interfaces in a container, not {}",
        settings.listen
    );
    let exposed: Vec<u16> = final_stage("EXPOSE")
        .iter()
        .flat_map(|e| e.arguments.split_whitespace())
        .map(|p| p.trim_end_matches("/tcp").parse().expect("EXPOSE port"))
        .collect();
    assert!(
        exposed.contains(&settings.listen.port()),
        "EXPOSE {exposed:?} should include the port of IZGRAPH_LISTEN ({})",
        settings.listen
    );
    assert!(
        !settings.seed_demo,
        "the image must not seed demo data by default"
    );
    // The data directory exists in the image and belongs to the user the image runs as, so
    // a fresh volume mounted there is writable.
    let data_dir = settings.data_dir.display().to_string();
    assert!(
        final_stage("COPY")
            .iter()
            .any(|c| c.arguments.contains(&format!("--chown={uid}:"))
                && c.arguments.ends_with(&format!(" {data_dir}"))),
        "the final stage should COPY --chown={uid}:... the data directory {data_dir}"
    );

    let ignore = read(&deploy("Dockerfile.dockerignore"));
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in ["target/", ".izgraph/", "**/node_modules/"] {
        assert!(
            ignored.contains(&needed),
            "deploy/Dockerfile.dockerignore should exclude {needed}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Compose.

fn compose() -> Value {
    yaml(&deploy("compose.yaml"))
}

/// Services that run the izgraph image: those built from deploy/Dockerfile.
fn izgraph_services(compose: &Value) -> Vec<(String, &Value)> {
    let services = mapping(compose, "services", "compose.yaml");
    let list: Vec<(String, &Value)> = services
        .iter()
        .filter(|(_, s)| {
            at(s, "build.dockerfile")
                .and_then(Value::as_str)
                .is_some_and(|d| d == "deploy/Dockerfile")
        })
        .map(|(name, s)| (name.as_str().expect("service name").to_owned(), s))
        .collect();
    assert!(
        list.len() >= 3,
        "compose.yaml should build deploy/Dockerfile for the two gateways and migrate"
    );
    list
}

/// The command of a service as a list of words.
fn command(service: &Value) -> Vec<String> {
    match service.get("command") {
        Some(Value::Sequence(words)) => words.iter().filter_map(scalar).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// `${NAME:-default}` and `${NAME-default}` become their default, `$$` a `$`; a variable
/// without a default is an error (the stack must come up with no .env file).
fn interpolate(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(inner) = rest.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in `{text}`"))?;
            let expression = &inner[..end];
            let default = expression
                .split_once(":-")
                .or_else(|| expression.split_once('-'))
                .map(|(_, d)| d)
                .ok_or_else(|| format!("`${{{expression}}}` in `{text}` has no default"))?;
            out.push_str(default);
            rest = &inner[end + 1..];
        } else {
            return Err(format!(
                "`{text}`: write ${{NAME:-default}} (or $$ for a $)"
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The `environment:` of a service (map or list form), interpolated.
fn service_environment(name: &str, service: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    match service.get("environment") {
        None => {}
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let k = k.as_str().expect("variable name").to_owned();
                let v = scalar(v).unwrap_or_default();
                env.insert(k, v);
            }
        }
        Some(Value::Sequence(list)) => {
            for entry in list.iter().filter_map(Value::as_str) {
                let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
                env.insert(k.to_owned(), v.to_owned());
            }
        }
        Some(other) => panic!("services.{name}.environment is neither a map nor a list: {other:?}"),
    }
    env.into_iter()
        .map(|(k, v)| {
            let v =
                interpolate(&v).unwrap_or_else(|e| panic!("services.{name}.environment.{k}: {e}"));
            (k, v)
        })
        .collect()
}

/// What a container of the service sees: the image's ENV overlaid with compose's.
fn container_environment(name: &str, service: &Value) -> BTreeMap<String, String> {
    let mut env = image_environment();
    env.extend(service_environment(name, service));
    env
}

fn settings_of(env: &BTreeMap<String, String>, origin: &str) -> Settings {
    // As Settings::from_env: an empty value counts as unset.
    Settings::from_lookup(|k| env.get(k).filter(|v| !v.trim().is_empty()).cloned())
        .unwrap_or_else(|e| panic!("{origin}: the gateway refuses this configuration: {e}"))
}

/// `30s`, `1m30s`, `2m` as seconds.
fn compose_duration(text: &str) -> u64 {
    let mut total = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            let n: u64 = number
                .parse()
                .unwrap_or_else(|_| panic!("duration `{text}`"));
            total += n * match c {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => panic!("duration `{text}`: unit {c}"),
            };
            number.clear();
        }
    }
    assert!(number.is_empty(), "duration `{text}` lacks a unit");
    total
}

/// The condition with which `service` waits for `on`, if it does.
fn depends_on<'v>(service: &'v Value, on: &str) -> Option<&'v str> {
    match service.get("depends_on")? {
        Value::Mapping(m) => m.get(on).map(|d| {
            d.get("condition")
                .and_then(Value::as_str)
                .unwrap_or("service_started")
        }),
        Value::Sequence(list) => list
            .iter()
            .any(|s| s.as_str() == Some(on))
            .then_some("service_started"),
        _ => None,
    }
}

fn host_of(url: &str, origin: &str) -> String {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{origin}: `{url}` is not a URL: {e}"))
        .host_str()
        .unwrap_or_else(|| panic!("{origin}: `{url}` names no host"))
        .to_owned()
}

#[test]
fn compose_gives_the_gateways_a_working_configuration() {
    let compose = compose();
    let services = mapping(&compose, "services", "compose.yaml");
    let service_names: BTreeSet<&str> = keys(services).collect();
    let all = izgraph_services(&compose);
    let gateways: Vec<&(String, &Value)> = all
        .iter()
        .filter(|(_, s)| command(s) == ["serve"])
        .collect();
    assert!(gateways.len() >= 2, "two gateway instances run `serve`");

    // Every service running the image, `migrate` included, gets a configuration the
    // gateway accepts.
    for (name, service) in &all {
        let origin = format!("compose.yaml services.{name}");
        let settings = settings_of(&container_environment(name, service), &origin);
        settings
            .cache_config()
            .unwrap_or_else(|e| panic!("{origin}: {e}"));
        let url = settings
            .database_url
            .as_ref()
            .unwrap_or_else(|| panic!("{origin}: DATABASE_URL is not set"));
        assert!(
            url.expose().starts_with("postgres://"),
            "{origin}: PostgreSQL"
        );
        let db_host = host_of(url.expose(), &origin);
        assert!(
            service_names.contains(db_host.as_str()),
            "{origin}: the database host {db_host} is not a compose service"
        );
        assert_eq!(
            depends_on(service, &db_host),
            Some("service_healthy"),
            "{origin}: should wait for {db_host} to be healthy"
        );
    }

    let mut seeders = Vec::new();
    let mut first_to_start = Vec::new();
    let mut data_volumes = BTreeSet::new();
    for (name, service) in &gateways {
        let origin = format!("compose.yaml services.{name}");
        let env = container_environment(name, service);
        let settings = settings_of(&env, &origin);
        assert!(
            settings.listen.ip().is_unspecified(),
            "{origin}: IZGRAPH_LISTEN should bind 0.0.0.0, not {}",
            settings.listen
        );
        assert!(
            settings.redis_url.is_some(),
            "{origin}: two instances must share Redis"
        );
        assert!(
            matches!(
                settings.cache_config().map(|c| c.backend),
                Ok(entities::CacheBackend::Redis { .. })
            ),
            "{origin}: the record cache should be Redis"
        );
        assert!(
            settings.external_issuer.is_none(),
            "{origin}: compose runs the dev issuer (izgraph token)"
        );
        let endpoint = env
            .get("OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_else(|| panic!("{origin}: OTEL_EXPORTER_OTLP_ENDPOINT is not set"));
        let collector = host_of(endpoint, &origin);
        assert!(
            service_names.contains(collector.as_str()),
            "{origin}: the OTLP endpoint's host {collector} is not a compose service"
        );
        assert_eq!(
            depends_on(service, "migrate"),
            Some("service_completed_successfully"),
            "{origin}: should start after the migrations ran"
        );
        if let Some(redis) = settings.redis_url.as_ref() {
            let host = host_of(redis.expose(), &origin);
            assert_eq!(
                depends_on(service, &host),
                Some("service_healthy"),
                "{origin}: should wait for {host} to be healthy"
            );
        }
        // SIGTERM starts the drain; Docker's SIGKILL must come after it ends.
        let grace = service
            .get("stop_grace_period")
            .and_then(Value::as_str)
            .map_or(10, compose_duration);
        let drain = settings.shutdown_delay.as_secs() + settings.shutdown_timeout.as_secs();
        assert!(
            grace > drain,
            "{origin}: stop_grace_period ({grace}s) must exceed the drain \
             (IZGRAPH_SHUTDOWN_DELAY_SECONDS + IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS = {drain}s)"
        );
        assert!(
            settings.shutdown_delay.as_secs() > 0,
            "{origin}: without a shutdown delay the load balancer sends requests to a closed port"
        );
        // The dev key lives in the data directory: every instance must mount the same volume
        // there, or a token minted by one fails on the other.
        let data_dir = settings.data_dir.display().to_string();
        let volume = service
            .get("volumes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|v| {
                let (source, target) = v.split_once(':')?;
                (target.split(':').next() == Some(data_dir.as_str())).then(|| source.to_owned())
            })
            .unwrap_or_else(|| panic!("{origin}: no volume is mounted at {data_dir}"));
        assert!(
            !volume.starts_with('.') && !volume.starts_with('/'),
            "{origin}: the data directory should be a named volume, not {volume}"
        );
        data_volumes.insert(volume);
        if settings.seed_demo {
            seeders.push(name.clone());
        }
        let waits_for_a_gateway = gateways
            .iter()
            .any(|(other, _)| depends_on(service, other) == Some("service_healthy"));
        if !waits_for_a_gateway {
            first_to_start.push(name.clone());
        }
    }
    assert_eq!(
        data_volumes.len(),
        1,
        "the gateways should share one data volume (the dev key): {data_volumes:?}"
    );
    // Two instances starting together on an empty volume would both create the dev key,
    // and on an empty database both seed: one starts first, the others once it is healthy.
    assert_eq!(
        first_to_start.len(),
        1,
        "exactly one gateway should start without waiting for another: {first_to_start:?}"
    );
    assert!(
        seeders.iter().all(|s| first_to_start.contains(s)),
        "only the gateway that starts first may seed demo data: seeders {seeders:?}, \
         first {first_to_start:?}"
    );

    // The load balancer sends to every gateway and follows their readiness.
    let caddyfile = read(&deploy("Caddyfile"));
    let upstreams = caddyfile
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("reverse_proxy "))
        .expect("a reverse_proxy in deploy/Caddyfile");
    for (name, service) in &gateways {
        let port = settings_of(&container_environment(name, service), name)
            .listen
            .port();
        assert!(
            upstreams
                .split_whitespace()
                .any(|u| u == format!("{name}:{port}")),
            "deploy/Caddyfile's reverse_proxy should include {name}:{port}: {upstreams}"
        );
    }
    assert!(
        caddyfile.lines().any(|l| l.trim() == "health_uri /readyz"),
        "the load balancer should check /readyz, which fails while an instance drains"
    );
    let lb = services
        .iter()
        .find(|(_, s)| {
            s.get("volumes")
                .and_then(Value::as_sequence)
                .is_some_and(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .any(|v| v.starts_with("./Caddyfile:"))
                })
        })
        .map(|(_, s)| s)
        .expect("a service mounts ./Caddyfile");
    let published = lb
        .get("ports")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| interpolate(p).expect("ports"))
        .collect::<Vec<_>>();
    assert!(
        published.iter().any(|p| p == "8080:8080"),
        "the load balancer is published on 8080: {published:?}"
    );
}

#[test]
fn the_collector_forwards_traces_to_jaeger() {
    let origin = "deploy/otel-collector.yaml";
    let config = yaml(&deploy("otel-collector.yaml"));
    // Every component a pipeline names is defined (the collector refuses to start
    // otherwise).
    let pipelines = mapping(&config, "service.pipelines", origin);
    for (pipeline, spec) in pipelines {
        for kind in ["receivers", "processors", "exporters"] {
            let defined = mapping(&config, kind, origin);
            for used in spec
                .get(kind)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                assert!(
                    defined.contains_key(used),
                    "{origin}: pipeline {pipeline:?} uses {kind} {used:?}, which is not defined"
                );
            }
        }
    }
    for used in at(&config, "service.extensions")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        assert!(
            mapping(&config, "extensions", origin).contains_key(used),
            "{origin}: extension {used:?} is not defined"
        );
    }
    // The gateways' OTLP/HTTP port is received, on all interfaces.
    let http = str_at(&config, "receivers.otlp.protocols.http.endpoint", origin);
    assert_eq!(http, "0.0.0.0:4318");
    // The traces pipeline ends at Jaeger, a compose service.
    let exporters: Vec<&str> = at(&config, "service.pipelines.traces.exporters")
        .and_then(Value::as_sequence)
        .expect("a traces pipeline with exporters")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let compose = compose();
    let services = mapping(&compose, "services", "compose.yaml");
    let jaeger = exporters
        .iter()
        .find_map(|e| {
            let endpoint = at(&config, &format!("exporters.{e}.endpoint"))?.as_str()?;
            let host = endpoint.split(':').next()?;
            services.contains_key(host).then_some(host)
        })
        .expect("a traces exporter whose endpoint is a compose service");
    let image = str_at(
        &compose,
        &format!("services.{jaeger}.image"),
        "compose.yaml",
    );
    assert!(image.starts_with("jaegertracing/"), "{jaeger} runs {image}");
    assert_eq!(
        at(
            &compose,
            &format!("services.{jaeger}.environment.COLLECTOR_OTLP_ENABLED")
        )
        .and_then(scalar)
        .as_deref(),
        Some("true"),
        "Jaeger should accept OTLP"
    );
}

// ------------------------------------------------------------------------------------------
// The Helm chart.

fn chart(relative: &str) -> PathBuf {
    deploy("helm/izgraph").join(relative)
}

/// Helm's merge of a values file over another: maps merge key by key, anything else
/// replaces, and `null` removes the key.
fn merge_values(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (k, v) in over {
                if v.is_null() {
                    base.remove(k);
                } else if let (Some(existing @ Value::Mapping(_)), Value::Mapping(_)) =
                    (base.get_mut(k), v)
                {
                    merge_values(existing, v);
                } else {
                    base.insert(k.clone(), v.clone());
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

fn values() -> Value {
    yaml(&chart("values.yaml"))
}

fn production_values() -> Value {
    let mut v = values();
    merge_values(&mut v, &yaml(&chart("ci/production-values.yaml")));
    v
}

/// The environment a pod of the chart gets: the ConfigMap (`config`) and the Secret
/// (`secrets`) without their empty values, as the templates render them, and the `env:`
/// the Deployment sets from other values.
fn chart_environment(values: &Value, origin: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for section in ["config", "secrets"] {
        for (k, v) in mapping(values, section, origin) {
            let k = k.as_str().expect("variable name");
            if let Some(v) = scalar(v).filter(|v| !v.is_empty()) {
                env.insert(k.to_owned(), v);
            }
        }
    }
    let deployment = read(&chart("templates/deployment.yaml"));
    assert!(
        deployment.contains(r#"value: "0.0.0.0:{{ .Values.containerPort }}""#),
        "deployment.yaml sets IZGRAPH_LISTEN from containerPort"
    );
    env.insert(
        "IZGRAPH_LISTEN".into(),
        format!("0.0.0.0:{}", u64_at(values, "containerPort", origin)),
    );
    env.insert(
        "IZGRAPH_DATA_DIR".into(),
        str_at(values, "dataDir.path", origin).to_owned(),
    );
    env
}

/// Names set under `env:` in a template (`- name: NAME` lines), and whether each is used
/// only for Kubernetes' `$(NAME)` expansion in that template.
fn template_env_names(text: &str) -> Vec<(String, bool)> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("- name: "))
        .map(str::trim)
        .filter(|n| is_variable_name(n))
        .map(|n| (n.to_owned(), text.contains(&format!("$({n})"))))
        .collect()
}

#[test]
fn every_variable_handed_to_the_gateway_is_one_it_reads() {
    let mut given: Vec<(String, String)> = Vec::new();

    for name in image_environment().into_keys() {
        given.push(("deploy/Dockerfile ENV".into(), name));
    }

    let compose = compose();
    for (service, spec) in izgraph_services(&compose) {
        for name in service_environment(&service, spec).into_keys() {
            given.push((
                format!("deploy/compose.yaml services.{service}.environment"),
                name,
            ));
        }
    }

    for file in ["values.yaml", "ci/production-values.yaml"] {
        let values = yaml(&chart(file));
        for section in ["config", "secrets"] {
            if let Some(m) = at(&values, section).and_then(Value::as_mapping) {
                for name in keys(m) {
                    given.push((format!("deploy/helm/izgraph/{file} {section}"), name.into()));
                }
            }
        }
    }
    for template in files_under(&chart("templates"), &|_| true) {
        for (name, expansion_only) in template_env_names(&read(&template)) {
            // A helper such as K8S_POD_NAME exists only to be expanded into another
            // variable's value ($(K8S_POD_NAME)); the gateway never sees it by name.
            if !expansion_only {
                given.push((relative(&template), name));
            }
        }
    }
    assert!(given.len() > 20, "too few variables found: {given:?}");
    assert_all_known(&given);
}

#[test]
fn the_charts_production_configuration_is_accepted_by_the_gateway() {
    let origin = "values.yaml + ci/production-values.yaml";
    let values = production_values();
    let settings = settings_of(&chart_environment(&values, origin), origin);
    assert!(
        settings.external_issuer.is_some(),
        "{origin}: production runs an external issuer"
    );
    assert!(!settings.seed_demo, "{origin}: no demo data in production");
    assert!(
        settings.database_read_url.is_some(),
        "{origin}: a read replica"
    );
    assert!(
        matches!(
            settings.cache_config().map(|c| c.backend),
            Ok(entities::CacheBackend::Redis { .. })
        ),
        "{origin}: the record cache should be Redis"
    );
    assert!(settings.listen.ip().is_unspecified());

    // The ConfigMap must hold strings, and Helm reads an unquoted number as a float
    // (1048576 renders as 1.048576e+06): every config value is quoted.
    for file in ["values.yaml", "ci/production-values.yaml"] {
        let v = yaml(&chart(file));
        for section in ["config", "secrets"] {
            for (k, value) in at(&v, section)
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                assert!(
                    value.is_string(),
                    "deploy/helm/izgraph/{file}: {section}.{} should be a quoted string, not {value:?}",
                    k.as_str().unwrap_or("?")
                );
            }
        }
    }
}

#[test]
fn the_chart_drains_within_its_grace_period() {
    for (origin, values) in [
        ("values.yaml", values()),
        (
            "values.yaml + ci/production-values.yaml",
            production_values(),
        ),
    ] {
        let settings = settings_of(&chart_environment(&values, origin), origin);
        let delay = settings.shutdown_delay.as_secs();
        let timeout = settings.shutdown_timeout.as_secs();
        let grace = u64_at(&values, "terminationGracePeriodSeconds", origin);
        assert!(
            grace > delay + timeout,
            "{origin}: terminationGracePeriodSeconds ({grace}) must exceed \
             IZGRAPH_SHUTDOWN_DELAY_SECONDS + IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS ({delay} + {timeout})"
        );
        // A load balancer that follows readiness needs periodSeconds x failureThreshold to
        // see the drain start; the delay must cover it.
        let period = u64_at(&values, "probes.readiness.periodSeconds", origin);
        let failures = u64_at(&values, "probes.readiness.failureThreshold", origin);
        assert!(
            period * failures <= delay,
            "{origin}: readiness notices the drain after up to {}s, longer than the {delay}s \
             IZGRAPH_SHUTDOWN_DELAY_SECONDS",
            period * failures
        );
    }
}

/// The lines indented under the first line that is exactly `key:` (after indentation).
fn block<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    let mut lines = text.lines();
    let Some(indent) = lines
        .by_ref()
        .find(|l| l.trim() == key)
        .map(|l| l.len() - l.trim_start().len())
    else {
        return Vec::new();
    };
    lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .collect()
}

fn probe_path(deployment: &str, probe: &str) -> String {
    block(deployment, &format!("{probe}:"))
        .iter()
        .find_map(|l| l.trim().strip_prefix("path: "))
        .unwrap_or_else(|| panic!("deployment.yaml: {probe} has no httpGet path"))
        .to_owned()
}

#[test]
fn the_chart_has_its_objects_and_runs_unprivileged() {
    let chart_yaml = yaml(&chart("Chart.yaml"));
    assert_eq!(str_at(&chart_yaml, "apiVersion", "Chart.yaml"), "v2");
    assert_eq!(str_at(&chart_yaml, "name", "Chart.yaml"), "izgraph");
    assert!(!str_at(&chart_yaml, "version", "Chart.yaml").is_empty());

    let template = |name: &str| read(&chart(&format!("templates/{name}")));
    for (file, needles) in [
        (
            "deployment.yaml",
            &[
                "apiVersion: apps/v1",
                "kind: Deployment",
                "configMapRef:",
                "secretRef:",
                "emptyDir:",
                "mountPath: {{ .Values.dataDir.path | quote }}",
                "terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}",
                "{{- toYaml .Values.podSecurityContext | nindent 8 }}",
                "{{- toYaml .Values.securityContext | nindent 12 }}",
                "{{- toYaml .Values.resources | nindent 12 }}",
                r#"{{- include "izgraph.validate" . }}"#,
            ][..],
        ),
        ("service.yaml", &["kind: Service", "targetPort: http"][..]),
        (
            "hpa.yaml",
            &[
                "apiVersion: autoscaling/v2",
                "kind: HorizontalPodAutoscaler",
                "name: cpu",
            ][..],
        ),
        (
            "pdb.yaml",
            &["apiVersion: policy/v1", "kind: PodDisruptionBudget"][..],
        ),
        (
            "networkpolicy.yaml",
            &[
                "apiVersion: networking.k8s.io/v1",
                "kind: NetworkPolicy",
                "- Ingress",
                "- Egress",
                "port: http",
            ][..],
        ),
        (
            "configmap.yaml",
            &["kind: ConfigMap", "range $name, $value := .Values.config"][..],
        ),
        (
            "secret.yaml",
            &[
                "kind: Secret",
                "if not .Values.existingSecret",
                "range $name, $value := .Values.secrets",
            ][..],
        ),
        (
            "servicemonitor.yaml",
            &[
                "{{- if .Values.serviceMonitor.enabled }}",
                "kind: ServiceMonitor",
                "path: /metrics",
            ][..],
        ),
        ("_helpers.tpl", &[r#"define "izgraph.fullname""#][..]),
        ("NOTES.txt", &[][..]),
    ] {
        let text = template(file);
        for needle in needles {
            assert!(
                text.contains(needle),
                "deploy/helm/izgraph/templates/{file} should contain `{needle}`"
            );
        }
    }

    let deployment = template("deployment.yaml");
    assert_eq!(probe_path(&deployment, "readinessProbe"), "/readyz");
    assert_eq!(probe_path(&deployment, "livenessProbe"), "/healthz");
    assert_eq!(probe_path(&deployment, "startupProbe"), "/healthz");

    let values = values();
    let origin = "values.yaml";
    let pod = at(&values, "podSecurityContext").expect("podSecurityContext");
    assert_eq!(pod.get("runAsNonRoot"), Some(&Value::Bool(true)));
    assert_eq!(
        pod.get("runAsUser").and_then(Value::as_u64),
        Some(image_uid()),
        "the pod's runAsUser should be the image's USER"
    );
    let container = at(&values, "securityContext").expect("securityContext");
    assert_eq!(container.get("runAsNonRoot"), Some(&Value::Bool(true)));
    assert_eq!(
        container.get("readOnlyRootFilesystem"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        container.get("allowPrivilegeEscalation"),
        Some(&Value::Bool(false))
    );
    assert!(
        at(container, "capabilities.drop")
            .and_then(Value::as_sequence)
            .is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL"))),
        "{origin}: securityContext.capabilities.drop should be [ALL]"
    );
    assert!(
        at(&values, "resources.requests.cpu").is_some(),
        "the HPA needs CPU requests"
    );
    assert!(at(&values, "resources.limits.memory").is_some());
    assert_eq!(
        str_at(&values, "dataDir.path", origin),
        image_environment()
            .get("IZGRAPH_DATA_DIR")
            .expect("the image sets IZGRAPH_DATA_DIR"),
        "the chart mounts its emptyDir where the image keeps its data"
    );
    assert!(u64_at(&values, "autoscaling.minReplicas", origin) >= 2);
    assert_eq!(
        at(&values, "serviceMonitor.enabled"),
        Some(&Value::Bool(false))
    );
    assert_eq!(
        at(&values, "existingSecret").and_then(Value::as_str),
        Some(""),
        "{origin}: existingSecret is offered (empty by default)"
    );
    for egress in ["dns", "postgres", "redis", "otlp", "oidc"] {
        assert!(
            at(&values, &format!("networkPolicy.egress.{egress}.ports")).is_some(),
            "{origin}: networkPolicy.egress.{egress} should allow its ports"
        );
    }
    for secret in [
        "DATABASE_URL",
        "DATABASE_READ_URL",
        "REDIS_URL",
        "IZGRAPH_INTROSPECTION_CLIENT_SECRET",
    ] {
        assert!(
            at(&values, &format!("secrets.{secret}")).is_some(),
            "{origin}: secrets.{secret}"
        );
    }
    for external in ["IZGRAPH_ISSUER", "IZGRAPH_AUDIENCE", "IZGRAPH_JWKS_URL"] {
        assert!(
            at(&values, &format!("config.{external}")).is_some(),
            "{origin}: config.{external}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Go template well-formedness.

/// One `{{ … }}` action: its 1-based line and its text without delimiters, trim markers and
/// surrounding space. Comments are not returned.
struct Action {
    line: usize,
    body: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// Splits a template into its actions, or says where it is malformed.
fn template_actions(text: &str) -> Result<Vec<Action>, String> {
    let mut actions = Vec::new();
    let mut from = 0;
    loop {
        let next_open = text[from..].find("{{").map(|i| from + i);
        let next_close = text[from..].find("}}").map(|i| from + i);
        if let Some(close) = next_close {
            if next_open.is_none_or(|open| close < open) {
                return Err(format!(
                    "line {}: `}}}}` outside any action",
                    line_of(text, close)
                ));
            }
        }
        let Some(open) = next_open else { break };
        let line = line_of(text, open);
        let mut start = open + 2;
        if text[start..].starts_with("- ") || text[start..].starts_with("-\n") {
            start += 1;
        }
        let inner = text[start..].trim_start();
        if inner.starts_with("/*") {
            let comment = start + (text[start..].len() - inner.len());
            let end = text[comment..]
                .find("*/")
                .map(|i| comment + i + 2)
                .ok_or_else(|| format!("line {line}: comment never closed with */"))?;
            let after = text[end..].trim_start();
            let after = after.strip_prefix('-').unwrap_or(after);
            if !after.starts_with("}}") {
                return Err(format!("line {line}: a comment must end with */}}}}"));
            }
            from = text.len() - after.len() + 2;
            continue;
        }
        // Find the closing braces outside string literals.
        let mut quote: Option<char> = None;
        let mut escaped = false;
        let mut depth = 0i32;
        let mut close = None;
        for (i, c) in text[start..].char_indices() {
            let at = start + i;
            match quote {
                Some('"') => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        quote = None;
                    } else if c == '\n' {
                        return Err(format!(
                            "line {line}: a string runs past the end of its line"
                        ));
                    }
                    continue;
                }
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                    continue;
                }
                None => {}
            }
            match c {
                '"' | '`' | '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(format!("line {line}: `)` without `(`"));
                    }
                }
                _ if text[at..].starts_with("{{") => {
                    return Err(format!(
                        "line {line}: action opened with {{{{ is never closed"
                    ));
                }
                _ if text[at..].starts_with("}}") => {
                    close = Some(at);
                    break;
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| format!("line {line}: action never closed with }}}}"))?;
        if depth != 0 {
            return Err(format!("line {line}: unbalanced parentheses"));
        }
        let body = text[start..close].trim();
        let body = body
            .strip_suffix(" -")
            .or_else(|| body.strip_suffix("\n-"))
            .unwrap_or(body)
            .trim();
        if body.is_empty() {
            return Err(format!("line {line}: empty action"));
        }
        actions.push(Action {
            line,
            body: body.to_owned(),
        });
        from = close + 2;
    }
    Ok(actions)
}

/// `.Values.a.b` paths in an action (also as `$.Values.a.b`), each with whether it was
/// written with `$`.
fn values_references(body: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = body[from..].find(".Values.") {
        let at = from + i;
        let rooted = body[..at].ends_with('$');
        let preceded_by_name = body[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ')');
        let path: String = body[at + ".Values.".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        from = at + ".Values.".len();
        if !preceded_by_name {
            found.push((path.trim_end_matches('.').to_owned(), rooted));
        }
    }
    found
}

/// What is wrong with one template: unpaired blocks, `else` outside a block, `.Values` paths
/// missing from `values`, and bare `.Values` where the dot is rebound.
fn template_problems(text: &str, values: &Value) -> Result<(Vec<String>, Vec<String>), String> {
    struct Frame {
        keyword: String,
        line: usize,
        rebinds_dot: bool,
    }
    let actions = template_actions(text)?;
    let mut stack: Vec<Frame> = Vec::new();
    let mut problems = Vec::new();
    let mut included = Vec::new();
    for action in &actions {
        let mut words = action.body.split_whitespace();
        let first = words.next().unwrap_or_default();
        let second = words.next().unwrap_or_default();
        // References are checked before the block opens: `with .Values.x` evaluates its
        // pipeline with the outer dot.
        let dot_rebound = stack
            .iter()
            .rev()
            .take_while(|f| f.keyword != "define" && f.keyword != "block")
            .any(|f| f.rebinds_dot);
        for (path, rooted) in values_references(&action.body) {
            if !rooted && dot_rebound {
                problems.push(format!(
                    "line {}: `.Values.{path}` inside with/range, where the dot is rebound: write `$.Values.{path}`",
                    action.line
                ));
            }
            if at(values, &path).is_none() {
                problems.push(format!(
                    "line {}: `.Values.{path}` is not in values.yaml",
                    action.line
                ));
            }
        }
        for keyword in ["include \"", "template \""] {
            for part in action.body.split(keyword).skip(1) {
                if let Some((name, _)) = part.split_once('"') {
                    included.push(name.to_owned());
                }
            }
        }
        match first {
            "if" | "range" | "with" | "define" | "block" => stack.push(Frame {
                keyword: first.to_owned(),
                line: action.line,
                rebinds_dot: first == "range" || first == "with",
            }),
            "else" => match stack.last_mut() {
                Some(frame) if ["if", "range", "with"].contains(&frame.keyword.as_str()) => {
                    // `else` runs with the outer dot; `else with` rebinds it again.
                    frame.rebinds_dot = second == "with";
                }
                _ => problems.push(format!(
                    "line {}: `else` outside if/range/with",
                    action.line
                )),
            },
            "end" => {
                let closed = stack.pop();
                if closed.is_none() {
                    problems.push(format!("line {}: `end` without a block", action.line));
                }
            }
            _ => {}
        }
    }
    for frame in stack {
        problems.push(format!(
            "line {}: `{}` is never closed by `end`",
            frame.line, frame.keyword
        ));
    }
    Ok((problems, included))
}

fn defined_templates(text: &str) -> Vec<String> {
    template_actions(text)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.body.strip_prefix("define \""))
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn the_template_checker_finds_what_it_claims_to() {
    let values: Value = serde_yaml_ng::from_str("a:\n  b: 1\nlist: []\n").expect("yaml");
    let problems = |text: &str| match template_problems(text, &values) {
        Ok((problems, _)) => problems,
        Err(malformed) => vec![malformed],
    };
    assert!(problems("x: {{ .Values.a.b }}\n{{- if .Values.a }}y{{- end }}\n").is_empty());
    assert!(problems("{{- /* a comment with }} in it */ -}}\n{{ $.Values.a.b }}").is_empty());
    assert!(
        problems("{{ with .Values.a }}{{ $.Values.a.b }}{{ else }}{{ .Values.a.b }}{{ end }}")
            .is_empty()
    );
    for (bad, why) in [
        ("{{ if .Values.a }}\n", "never closed"),
        ("{{ end }}", "without a block"),
        ("{{ .Values.a.b }\n", "never closed"),
        ("{ .Values.a.b }}", "outside any action"),
        ("{{ .Values.a.c }}", "not in values.yaml"),
        (
            "{{ range .Values.list }}{{ .Values.a.b }}{{ end }}",
            "rebound",
        ),
        ("{{ (include \"x\" . }}", "parentheses"),
        ("{{/* never closed }}", "comment"),
        ("{{ else }}", "outside"),
    ] {
        let found = problems(bad);
        assert!(
            found.iter().any(|p| p.contains(why)),
            "`{bad}` should be reported ({why}), got {found:?}"
        );
    }
}

#[test]
fn the_chart_templates_are_well_formed() {
    let values = values();
    let templates = files_under(&chart("templates"), &|_| true);
    assert!(templates.len() >= 10, "templates: {templates:?}");
    let mut defined = BTreeSet::new();
    for t in &templates {
        defined.extend(defined_templates(&read(t)));
    }
    let mut all_problems = Vec::new();
    for t in &templates {
        let name = relative(t);
        match template_problems(&read(t), &values) {
            Err(malformed) => all_problems.push(format!("{name}: {malformed}")),
            Ok((problems, included)) => {
                all_problems.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
                for include in included {
                    if !defined.contains(&include) {
                        all_problems.push(format!(
                            "{name}: includes \"{include}\", which no template defines"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        all_problems.is_empty(),
        "chart templates:\n{}",
        all_problems.join("\n")
    );
}

#[test]
fn every_yaml_file_under_deploy_parses() {
    let templates = chart("templates");
    let files = files_under(&root().join("deploy"), &|p| {
        !p.starts_with(&templates) && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
    });
    let names: Vec<String> = files.iter().map(|f| relative(f)).collect();
    for expected in [
        "deploy/compose.yaml",
        "deploy/otel-collector.yaml",
        "deploy/helm/izgraph/Chart.yaml",
        "deploy/helm/izgraph/values.yaml",
        "deploy/helm/izgraph/ci/production-values.yaml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} is missing");
    }
    for file in &files {
        let documents = yaml_documents(file);
        assert!(
            documents.iter().any(|d| !d.is_null()),
            "{} is empty",
            relative(file)
        );
    }
}
