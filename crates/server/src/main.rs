//! `tandem`: the server and its administration commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tandem_server::{Config, Server};
use tracing_subscriber::EnvFilter;

mod admin;
mod duties;

#[derive(Parser)]
#[command(name = "tandem", version, about = "Tandem: the chat widget with a human behind it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the widget and the agent console.
    Serve(ServeArgs),
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// A customer's data: export it for a data-subject request, or erase it.
    #[command(subcommand)]
    Customer(duties::CustomerCommand),
    /// Print a merchant's audit log (admin actions, exports, conversation reads), oldest first.
    Audit(duties::AuditArgs),
    /// Write a consistent copy of the database to a new file, while the server runs.
    Backup {
        /// The copy to write; it must not exist yet.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Args)]
struct DataDir {
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The server's database instead, if it runs on one: postgres://… or sqlite://….
    #[arg(long, env = "TANDEM_DATABASE_URL")]
    database: Option<String>,
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Add a merchant, or update the one with this id.
    Add(AddMerchant),
    /// Generate a new secret for signing `Tandem.identify` ids (replacing any old one) and
    /// print it once; keep it on your server (see docs/embedding.md).
    IdentitySecret {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Set a merchant's bot flow from a JSON file (see docs/bot-flows.md); an invalid flow is
    /// refused with every problem listed.
    Flow {
        #[arg(long)]
        id: String,
        /// The flow document.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// A merchant's canned responses: the prepared answers agents find with `/` in the console.
    #[command(subcommand)]
    Canned(CannedCommand),
    /// A merchant's signed webhooks: conversations told to its CRM or helpdesk (docs/api.md).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Print the latest mails (messages left, transcripts): id, kind, to, state (sent,
    /// retrying, given up), attempts and the last error. Nothing is mailed without --smtp-url.
    Mails {
        #[arg(long)]
        id: String,
        /// Only those not sent.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Add a webhook and print its signing secret, once.
    Add {
        #[arg(long)]
        id: String,
        /// Where deliveries are sent: an https URL on a public address.
        #[arg(long)]
        url: String,
        /// The events it is sent, comma-separated: conversation_started, agent_joined,
        /// conversation_ended, conversation_rated, message_left, conversation_abandoned (or all).
        #[arg(long, default_value = "all")]
        events: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the merchant's webhooks: id, URL and events.
    List {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove one, with what it was still owed.
    Remove {
        #[arg(long)]
        id: String,
        #[arg(long)]
        webhook: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the latest deliveries: id, event, state (delivered, retrying, given up), attempts
    /// and the last error.
    Deliveries {
        #[arg(long)]
        id: String,
        /// Only those not delivered.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum CannedCommand {
    /// Add a canned response, or replace the one with this shortcut.
    Set {
        /// The merchant's id.
        #[arg(long)]
        id: String,
        /// What agents type after `/`: lowercase letters, digits and '-'.
        #[arg(long)]
        shortcut: String,
        /// What agents read in the list.
        #[arg(long)]
        title: String,
        /// One text per language as LANG=TEXT (repeatable), e.g. --text "en=Hi {customer_name}, I'm
        /// {agent_name}." The placeholders are filled in as an agent takes it.
        #[arg(long = "text", required = true)]
        texts: Vec<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the merchant's canned responses, one per line: shortcut, title and languages.
    List {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove one.
    Remove {
        #[arg(long)]
        id: String,
        #[arg(long)]
        shortcut: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent, or reset the name and password of the one with this email. The password
    /// is read from TANDEM_AGENT_PASSWORD or else from the first line of standard input.
    Add(AddAgent),
    /// List agents.
    List {
        /// Only this merchant's agents.
        #[arg(long)]
        merchant: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
}

// `tandem merchant add`
#[derive(Args)]
struct AddMerchant {
    /// Public id used in the embed tag: a-z, 0-9 and '-'.
    #[arg(long)]
    id: String,
    /// Name shown in the widget's header.
    #[arg(long)]
    name: String,
    /// A page origin allowed to embed the widget, e.g. https://shop.example (repeatable).
    #[arg(long = "origin", required = true)]
    origins: Vec<String>,
    #[arg(long)]
    support_email: Option<String>,
    /// When people answer: days, hours and UTC offset, e.g. "Mon-Fri 09:00-17:00 +01:00".
    /// Outside them the widget offers to leave a message. Unset: always.
    #[arg(long)]
    business_hours: Option<String>,
    /// The widget's language (en, sv, de); unset: the page's, then the browser's.
    #[arg(long)]
    locale: Option<String>,
    /// Ask for the customer's email before the handoff: off, optional or required.
    #[arg(long, default_value = "off")]
    ask_email: String,
    /// The reply time promised for messages left when nobody is online, in hours.
    #[arg(long, default_value_t = 24)]
    reply_within_hours: u32,
    /// Seconds an agent has to accept or decline an offered customer.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=600))]
    offer_timeout: u32,
    /// Offers an agent may let expire in a row before being set away.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    missed_offers_before_away: u32,
    /// Seconds an agent's chats wait for them after their console disconnects.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=3600))]
    grace: u32,
    /// Seconds a waiting customer may be gone (no open page) before their chat is abandoned.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=86400))]
    abandon_after: u32,
    /// Most chats waiting at once; past it the widget offers to leave a message (too_busy).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_waiting: u32,
    /// Seconds a signed Tandem.identify is accepted after its issued_at.
    #[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u32).range(60..=2_592_000))]
    identity_max_age: u32,
    /// Days conversations and left messages are kept before they are deleted.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    retain_days: u32,
    #[command(flatten)]
    data: DataDir,
}

// `tandem agent add`
#[derive(Args)]
struct AddAgent {
    #[arg(long)]
    merchant: String,
    #[arg(long)]
    email: String,
    /// Name customers see, e.g. "Anna".
    #[arg(long)]
    name: String,
    /// Languages they answer in, comma-separated primary subtags.
    #[arg(long, default_value = "en", value_delimiter = ',')]
    languages: Vec<String>,
    /// Skills customers may ask for, comma-separated (e.g. billing).
    #[arg(long, value_delimiter = ',')]
    skills: Vec<String>,
    /// Chats at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    capacity: u32,
    /// Admins invite and deactivate agents and see the supervisor view.
    #[arg(long)]
    admin: bool,
    #[command(flatten)]
    data: DataDir,
}

#[derive(Args)]
struct ServeArgs {
    /// Address for the API, the widget (/widget/) and the console (/console/).
    #[arg(long, env = "TANDEM_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the embedded SQLite database.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The database to use instead of the SQLite file in --data-dir: postgres://user:password@host:5432/db
    /// (several servers may share one), or sqlite://path/to/file.sqlite3.
    #[arg(long, env = "TANDEM_DATABASE_URL")]
    database: Option<String>,
    /// The built widget (Trunk's dist directory).
    #[arg(long, env = "TANDEM_WIDGET_DIR", default_value = "dist")]
    widget_dir: PathBuf,
    /// The built agent console.
    #[arg(long, env = "TANDEM_CONSOLE_DIR", default_value = "console/dist")]
    console_dir: PathBuf,
    /// Seed the demo merchant and agent and serve the demo checkout page on --demo-listen.
    #[arg(long, env = "TANDEM_DEMO")]
    demo: bool,
    /// Address of the demo checkout page (a second origin, as a merchant's site would be).
    #[arg(long, env = "TANDEM_DEMO_LISTEN", default_value = "127.0.0.1:8081")]
    demo_listen: SocketAddr,
    /// The URL people use to reach this server, e.g. https://chat.example.com (default: the
    /// listen address over http). Only the console served from it may sign agents in.
    #[arg(long, env = "TANDEM_PUBLIC_URL")]
    public_url: Option<String>,
    /// A reverse proxy in front of the server (an address or a CIDR range, e.g. 127.0.0.1 or
    /// 10.0.0.0/8; repeatable or comma-separated) whose X-Forwarded-For names the client.
    /// Without it, every request counts as coming from the address it arrives from.
    #[arg(long = "trusted-proxy", env = "TANDEM_TRUSTED_PROXIES", value_delimiter = ',', value_parser = proxy_net)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// The mail server for messages left and transcripts: smtps://host[:port], or
    /// smtp://host[:port]?tls=required for STARTTLS. Its user name and password are read from
    /// TANDEM_SMTP_USERNAME and TANDEM_SMTP_PASSWORD. Without it no email is sent.
    #[arg(long, env = "TANDEM_SMTP_URL", requires = "mail_from")]
    smtp_url: Option<String>,
    /// The From of every mail, e.g. "Northwind support <support@northwind.example>".
    #[arg(long, env = "TANDEM_MAIL_FROM", requires = "smtp_url")]
    mail_from: Option<String>,
}

/// An address (one host) or a CIDR range.
fn proxy_net(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a CIDR range such as 10.0.0.0/8"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(), // --help, --version
        Err(error) => {
            // clap's report spans several lines; operators get one line and the way to help.
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("tandem: {} (see 'tandem --help')", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let outcome = match cli.command {
        Command::Serve(args) => return serve(args).await,
        Command::Merchant(command) => admin::merchant(command).await,
        Command::Agent(command) => admin::agent(command).await,
        Command::Backup { to, data } => admin::backup(&to, &data).await,
        Command::Customer(command) => duties::customer(command).await,
        Command::Audit(args) => duties::audit(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tandem: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let (widget_dir, console_dir) = tandem_server::assets::builds(args.widget_dir, args.console_dir);
    let mut mail = mail_settings(args.smtp_url, args.mail_from);
    if args.demo && mail.is_none() {
        mail = demo_mailbox().await;
    }
    let config = Config {
        listen: args.listen,
        demo_listen: args.demo.then_some(args.demo_listen),
        data_dir: args.data_dir,
        database: args.database,
        widget_dir,
        console_dir,
        seed_demo: args.demo,
        public_url: args.public_url,
        trusted_proxies: args.trusted_proxies,
        live_timing: tandem_server::live::LiveTiming::default(),
        webhooks: tandem_server::webhooks::Delivery::default(),
        mail,
    };
    let widget_dir = config.widget_dir.clone();
    let server = match Server::bind(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("tandem: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !widget_dir.join("tandem.js").is_file() {
        tracing::warn!(dir = %widget_dir.display(), "no widget build found; run `cargo xtask demo`, or build one self-contained binary with `cargo xtask dist`");
    }
    let shutdown = shutdown_signal();
    if let Ok(addr) = server.local_addr() {
        tracing::info!(%addr, "listening");
        println!("Agent console:  http://{addr}/console/");
    }
    if let Some(demo_addr) = server.demo_addr() {
        println!("Demo checkout:  http://{demo_addr}/");
        println!("Theme gallery:  http://{demo_addr}/themes");
    }
    if let Some(agent) = server.demo_agent() {
        println!(
            "Demo agents:    {} (admin) and {}, password {}",
            agent.email, agent.second_email, agent.password
        );
    }
    match server.run(shutdown).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tandem: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
///
/// The handlers are installed here, before the caller prints the address line, not when the
/// returned future is first polled: a supervisor (or a test) that sends SIGTERM as soon as it
/// reads that line must get a graceful stop, not the default "killed by signal".
/// `--smtp-url` and `--mail-from` (clap requires both or neither), with the credentials from
/// the environment.
fn mail_settings(url: Option<String>, from: Option<String>) -> Option<tandem_server::mail::Settings> {
    let mut settings = tandem_server::mail::Settings::new(url?, from?);
    let user = std::env::var("TANDEM_SMTP_USERNAME").ok().filter(|user| !user.is_empty());
    settings.credentials = user.map(|user| (user, std::env::var("TANDEM_SMTP_PASSWORD").unwrap_or_default()));
    Some(settings)
}

/// The demo without `--smtp-url` mails into a sink on this machine and prints what it gets, so
/// that a message left and a transcript show what a merchant's support and customers receive.
async fn demo_mailbox() -> Option<tandem_server::mail::Settings> {
    let sink = tandem_server::mail::sink::Sink::start().await.ok()?;
    let settings =
        tandem_server::mail::Settings::new(sink.url(), "Northwind Outfitters <chat@northwind.example>");
    tokio::spawn(async move {
        let mut printed = 0;
        loop {
            let Some(mails) = sink.wait_for(printed + 1, std::time::Duration::from_secs(3600)).await else {
                continue;
            };
            for mail in &mails[printed..] {
                let subject = mail.header("Subject").unwrap_or_default();
                println!(
                    "Demo mail to {}: {subject} (tandem merchant mails --id demo lists them)",
                    mail.to.join(", ")
                );
            }
            printed = mails.len();
        }
    });
    Some(settings)
}

fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                () = next_signal(terminate) => {},
                () = next_signal(interrupt) => {},
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}

/// Waits for one delivery of an installed handler; a handler that could not be installed
/// never fires.
#[cfg(unix)]
async fn next_signal(handler: Option<tokio::signal::unix::Signal>) {
    match handler {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
