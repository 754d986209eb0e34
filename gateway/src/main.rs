//! The `izgraph` command line (`shared/spec/cli-and-tokens.md`).

use std::io::Write;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use gateway::app::{open_store, shutdown_signal, Application};
use gateway::auth::clients::{register, rotate, ClientRegistration};
use gateway::auth::{mint, TokenRequest};
use gateway::keys::DevKeys;
use gateway::Settings;
use policies::{Purpose, Role, ScopeSet};

mod match_check;
mod vital_records;

/// mimalloc rather than the system allocator. A GraphQL response is built as a tree of small
/// allocations (one map per object, one string per name) and freed at once: on a 1,000-student
/// roster glibc's malloc and free were a third of the CPU time. The allocator is the binary's
/// choice, not the library's: the benchmark binaries that run the server in-process declare
/// the same.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "izgraph",
    version,
    about = "GraphQL gateway for an immunization registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load synthetic demo data.
    Seed {
        /// How many persons (children and their guardians) to create.
        #[arg(long, default_value_t = 1000)]
        persons: u64,
        /// Random seed: the same seed makes the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print the served GraphQL schema (SDL with federation directives).
    Schema,
    /// Print a bearer token signed by the dev key.
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: Option<uuid::Uuid>,
        #[arg(long)]
        person: Option<uuid::Uuid>,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
        #[arg(long)]
        sub: Option<String>,
        /// The identity-assurance level vouched for (`acr`, e.g. IAL2): guardians and
        /// individuals need one to download an official record.
        #[arg(long)]
        acr: Option<String>,
    },
    /// Access-log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run CDSi test cases (the format of shared/cdsi/cases/*.json) through the forecasting
    /// engine: one line per failing case, then the pass rate per vaccine group and
    /// `N passed, M failed`. Exits 0 when cases fail: it measures, tests judge.
    CdsiCheck {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Run labelled record pairs (the format of shared/matching/*.txt) through the patient
    /// matching engine: the confusion matrix, exact agreement, false merges and Match recall per
    /// scenario and overall, then `N passed, M failed`. Exits 0: it measures, tests judge.
    MatchCheck {
        /// Also print one line per pair: its TEST text, a tab and the decision.
        #[arg(long)]
        decisions: bool,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Verify a SMART Health Card: a `.smart-health-card` file, a JWS, or `shc:/` numeric
    /// text. Prints each card's issuer and exits 0, or the reason it is refused and exits 1.
    /// This registry's own issuer (`IZGRAPH_CARD_ISSUER`) resolves to its card key; other
    /// issuers' key sets are given with `--issuer-jwks ISS=FILE` (no network is used).
    VerifyCard {
        file: std::path::PathBuf,
        #[arg(long = "issuer-jwks", value_name = "ISS=FILE")]
        issuer_jwks: Vec<String>,
    },
    /// OAuth2 partner clients of the dev token endpoint (`POST /oauth/token`).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Import files: HL7 message batches, and vital records' birth and death files (each
    /// line checked whole, then applied; rejected lines listed with their reason).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Exit 0 when the gateway on this machine answers `/healthz` (IZGRAPH_LISTEN, with an
    /// unspecified address probed on loopback), 1 otherwise: the container image has no curl
    /// for its HEALTHCHECK.
    Healthcheck {
        /// Probe this URL instead, e.g. `http://127.0.0.1:8080/readyz`.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; prints its id and secret (the secret is shown only this once).
    Add {
        /// The organization the client acts for (roles that need one).
        #[arg(long)]
        org: Option<uuid::Uuid>,
        #[arg(long)]
        role: String,
        /// The most the client may ask for (space-separated); default: its role's rights.
        #[arg(long)]
        scope: Option<String>,
        /// A label for people reading the registry's configuration.
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a client: its secret and every token it was issued stop working at once, on
    /// every instance.
    Remove { id: uuid::Uuid },
    /// Give a client a new secret, printed once; the old secret and the tokens issued with it
    /// stop working at once.
    Rotate { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A batch file of HL7 v2 messages (FHS/BHS…BTS/FTS, or messages one after another),
    /// processed as the registered client `--client` submits them (same policy, MSH-4 must be
    /// its organization's facility); the acknowledgements go to FILE.ack.
    Hl7 {
        file: std::path::PathBuf,
        /// The registered client (izgraph client add) the file comes from.
        #[arg(long)]
        client: uuid::Uuid,
    },
    /// A birth file: creates or matches each child, records the mother as verified guardian.
    Births { file: std::path::PathBuf },
    /// A death file: marks each matched person deceased with the date of death.
    Deaths { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and report the first broken link, proving that it still contains
    /// every signed checkpoint of its head (truncation and rewriting are found too).
    Verify {
        /// Signed checkpoints to check the chain against; default: the configured file
        /// (IZGRAPH_CHECKPOINT_FILE, or access-log-checkpoints.jsonl in the data directory).
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<std::path::PathBuf>,
    },
}

/// A `--scope` list; unlike a token's claim, a registration names no unknown scope.
fn parse_scope(list: &str) -> anyhow::Result<ScopeSet> {
    let scopes = list
        .split_whitespace()
        .map(|s| {
            s.parse::<policies::Scope>()
                .map_err(|()| anyhow::anyhow!("unknown scope `{s}`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if scopes.is_empty() {
        bail!("--scope names no scope");
    }
    Ok(ScopeSet::of(&scopes))
}

fn cdsi_check(files: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let schedule = forecast::Schedule::embedded()
        .map_err(|e| anyhow::anyhow!("the forecasting schedule is invalid: {e}"))?;
    let mut cases: Vec<forecast::cases::Case> = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let mut more: Vec<forecast::cases::Case> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a list of CDSi cases", file.display()))?;
        cases.append(&mut more);
    }
    let (summary, results) = forecast::cases::check_cases(schedule, &cases);
    for r in results.iter().filter(|r| !r.passed) {
        println!("{}: {}", r.id, r.differences.join("; "));
    }
    println!("{summary}");
    println!(
        "{} passed, {} failed",
        summary.passed,
        summary.total - summary.passed
    );
    Ok(())
}

/// GETs the URL; success is a 2xx answer within a few seconds.
async fn healthcheck(url: Option<&str>) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url.to_owned(),
        None => {
            let listen = Settings::from_env()?.listen;
            // 0.0.0.0 (or ::) is where the server binds, not an address to connect to.
            let ip = match listen.ip() {
                std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                }
                std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                }
                ip => ip,
            };
            format!(
                "http://{}/healthz",
                std::net::SocketAddr::new(ip, listen.port())
            )
        }
    };
    // The probe is local: a proxy configured in the environment must not answer for it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {url}: {status}");
    }
    println!("GET {url}: {status}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Run every few seconds by the container runtime: no telemetry pipeline to set up and tear
    // down, and nothing exported about probing.
    if let Command::Healthcheck { url } = &cli.command {
        return healthcheck(url.as_deref()).await;
    }
    let log_filter = std::env::var("IZGRAPH_LOG").unwrap_or_else(|_| "info".into());
    let telemetry = gateway::telemetry::init(&log_filter)?;
    let outcome = run(cli).await;
    telemetry.shutdown();
    outcome
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve => {
            // Each connection is a descriptor: the soft limit (often 1,024) goes up to the
            // hard one, so IZGRAPH_MAX_CONNECTIONS, not the default limit, caps them.
            match rlimit::increase_nofile_limit(u64::MAX) {
                Ok(n) => tracing::info!(limit = n, "open-file limit"),
                Err(e) => tracing::warn!(error = %e, "open-file limit could not be raised"),
            }
            let app = Application::build(settings).await?;
            let addr = app.address()?;
            println!("izgraph listening on http://{addr}/graphql");
            std::io::stdout().flush()?;
            app.run_until(shutdown_signal()).await?;
        }
        Command::Import {
            command: ImportCommand::Hl7 { file, client },
        } => {
            let mut settings = settings;
            // In-process: the server's state without serving it (a loopback port is bound
            // and never accepted on) and without demo data.
            settings.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            settings.metrics_listen = None;
            settings.mllp = None;
            settings.seed_demo = false;
            let app = Application::build(settings).await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} messages ({per_sec}, eta {eta})",
                )
                .context("progress style")?,
            );
            let started = std::time::Instant::now();
            let summary =
                gateway::hl7::import::import_file(app.state(), &file, client, |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{} messages in {:.2}s ({:.0}/s): {} accepted, {} with errors, {} rejected; acknowledgements in {}",
                summary.messages,
                secs,
                summary.messages as f64 / secs.max(1e-9),
                summary.accepted,
                summary.with_errors,
                summary.rejected,
                summary.ack_file.display()
            );
        }
        Command::Migrate => {
            let store = open_store(&settings).await?;
            let pending = store.pending_migrations().await?;
            println!("migrations applied; {pending} pending");
        }
        Command::Seed { persons, seed } => {
            let store = open_store(&settings).await?;
            let bar = indicatif::ProgressBar::new(persons);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} persons ({per_sec}, eta {eta})",
                )
                .context("progress style")?,
            );
            let started = std::time::Instant::now();
            let summary = store
                .seed(
                    entities::seed::SeedOptions {
                        persons,
                        seed,
                        today: settings.today(),
                    },
                    |done| bar.set_position(done),
                )
                .await?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seeded {} persons, {} doses, {} organizations in {:.2}s ({:.0} persons/s)",
                summary.persons,
                summary.doses,
                summary.organizations,
                secs,
                summary.persons as f64 / secs.max(1e-9)
            );
        }
        Command::Schema => print!("{}", schema::sdl()),
        Command::Token {
            role,
            org,
            person,
            scope,
            purpose,
            ttl,
            sub,
            acr,
        } => {
            if settings.external_issuer.is_some() {
                bail!("izgraph token signs dev tokens; this gateway is configured for an external issuer (IZGRAPH_ISSUER)");
            }
            let role: Role = role.parse()?;
            let purpose = purpose
                .map(|p| {
                    p.parse::<Purpose>()
                        .map_err(|()| anyhow::anyhow!("unknown purpose `{p}`"))
                })
                .transpose()?;
            if ttl <= 0 {
                bail!("--ttl must be positive");
            }
            let keys = DevKeys::load_or_create(&settings.data_dir)?;
            let token = mint(
                &keys,
                &TokenRequest {
                    role,
                    org,
                    person,
                    scope,
                    purpose,
                    ttl_seconds: ttl,
                    subject: sub,
                    client: None,
                    acr,
                },
            )?;
            println!("{token}");
        }
        Command::Client {
            command: ClientCommand::Remove { id },
        } => {
            let store = open_store(&settings).await?;
            if !store.remove_oauth_client(id).await? {
                bail!("no client {id}");
            }
            println!("client {id} removed: its tokens are refused from now on");
        }
        Command::Client {
            command: ClientCommand::Rotate { id },
        } => {
            let store = open_store(&settings).await?;
            let issued = rotate(&store, id).await?;
            println!("client_id: {}", issued.client.id);
            println!("client_secret: {}", issued.secret.expose());
            eprintln!("store the secret now: only its hash is kept, it cannot be shown again; the old secret and its tokens no longer work");
        }
        Command::Client {
            command:
                ClientCommand::Add {
                    org,
                    role,
                    scope,
                    name,
                },
        } => {
            if settings.external_issuer.is_some() {
                bail!("izgraph client registers clients of the dev token endpoint; this gateway is configured for an external issuer (IZGRAPH_ISSUER), register clients there");
            }
            let role: Role = role.parse()?;
            let scope = scope.map(|s| parse_scope(&s)).transpose()?;
            let store = open_store(&settings).await?;
            let issued = register(
                &store,
                ClientRegistration {
                    name,
                    role,
                    org,
                    scope,
                },
            )
            .await?;
            println!("client_id: {}", issued.client.id);
            println!("client_secret: {}", issued.secret.expose());
            println!("scope: {}", issued.client.scopes.to_claim());
            eprintln!("store the secret now: only its hash is kept, it cannot be shown again");
        }
        Command::Import {
            command: ImportCommand::Births { file },
        } => import_vital_records(&settings, &file, VitalFile::Births).await?,
        Command::Import {
            command: ImportCommand::Deaths { file },
        } => import_vital_records(&settings, &file, VitalFile::Deaths).await?,
        Command::CdsiCheck { files } => cdsi_check(&files)?,
        Command::MatchCheck { files, decisions } => match_check::run(&files, decisions)?,
        Command::VerifyCard { file, issuer_jwks } => verify_card(&settings, &file, &issuer_jwks)?,
        Command::Healthcheck { url } => healthcheck(url.as_deref()).await?,
        Command::Audit {
            command: AuditCommand::Verify { checkpoints },
        } => {
            // An explicit file must exist; the configured default may not yet (a gateway that
            // never ran), and then only the chain itself is checked, which is said.
            let (path, explicit) = match checkpoints {
                Some(path) => (path, true),
                None => (settings.checkpoint_file(), false),
            };
            let signed = if explicit || path.exists() {
                let signed = gateway::checkpoints::read(&path, &settings.checkpoint_key())?;
                println!(
                    "{} signed checkpoints read from {}",
                    signed.len(),
                    path.display()
                );
                signed
            } else {
                println!(
                    "no checkpoint file at {}: truncation or a rewrite of the whole log cannot be detected",
                    path.display()
                );
                Vec::new()
            };
            let store = open_store(&settings).await?;
            match store.verify_access_log_against(&signed).await? {
                entities::repo::access_log::ChainReport::Intact { entries } => {
                    println!("access log intact: {entries} entries");
                }
                entities::repo::access_log::ChainReport::Broken { seq, problem } => {
                    println!("access log BROKEN at entry {seq}: {problem}");
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}

/// `izgraph verify-card`: exits 1 (through the error) when the card is refused.
fn verify_card(
    settings: &Settings,
    file: &std::path::Path,
    issuer_jwks: &[String],
) -> anyhow::Result<()> {
    use std::collections::HashMap;
    let mut sets: HashMap<String, serde_json::Value> = HashMap::new();
    for pair in issuer_jwks {
        let (iss, path) = pair
            .split_once('=')
            .with_context(|| format!("--issuer-jwks takes ISS=FILE, not `{pair}`"))?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        sets.insert(
            iss.to_owned(),
            serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))?,
        );
    }
    let own_key = settings.card_key();
    if own_key.exists() {
        let issuer = gateway::keys::card_issuer(&own_key, &settings.records.card_issuer)?;
        sets.entry(issuer.iss.clone())
            .or_insert_with(|| serde_json::json!({ "keys": [issuer.public_jwk()] }));
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // A card file is named for its media type (application/smart-health-card).
    let is_file = bytes.first() == Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|v| v.get("verifiableCredential").is_some());
    if is_file && file.extension().and_then(|e| e.to_str()) != Some("smart-health-card") {
        bail!("invalid card: a card file's name must end in .smart-health-card");
    }
    let now = chrono::Utc::now().timestamp();
    let cards = record::shc::verify(&bytes, &|iss| sets.get(iss).cloned(), now)
        .map_err(|e| anyhow::anyhow!("invalid card: {e}"))?;
    for card in cards {
        let entries = card.bundle["entry"].as_array().map_or(0, Vec::len);
        println!(
            "valid card: issuer {} key {} ({} FHIR resources)",
            card.iss, card.kid, entries
        );
    }
    Ok(())
}

/// Which vital-records file `izgraph import` reads.
enum VitalFile {
    Births,
    Deaths,
}

/// `izgraph import births|deaths FILE`: each line matched and applied, with a progress bar.
async fn import_vital_records(
    settings: &Settings,
    file: &std::path::Path,
    kind: VitalFile,
) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lines ({per_sec})")
            .context("progress style")?,
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let summary = match kind {
        VitalFile::Births => {
            vital_records::import_births(&store, file, settings.today(), progress).await?
        }
        VitalFile::Deaths => {
            vital_records::import_deaths(&store, file, settings.today(), progress).await?
        }
    };
    bar.finish_and_clear();
    println!("{summary}");
    Ok(())
}
