//! `photoscale s3-server`: the S3-compatible server of the local stack
//! (levels 2 and up). Objects live in files under a directory of the
//! stack's state, so they survive `down`/`up` and a SIGKILL; every request
//! must carry a SigV4 signature (a header or a presigned URL) made with the
//! stack's own key pair; nothing is kept per request, so nothing grows
//! with reads. The S3 subset the app, the tests, `data copy`, backups and
//! the AWS CLI use, on the app's own HTTP server (actix-web): buckets,
//! object PUT (plain or `aws-chunked`), GET with ranges, HEAD, DELETE,
//! copy, listings, DeleteObjects. Multipart uploads are refused with
//! NotImplemented.

mod aws_chunked;
mod buckets;
mod error;
mod escape;
mod import;
mod objects;
mod query;
mod routes;
mod signature;
mod store;
mod xml;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::SecretString;

use routes::ServerState;
use store::Store;

#[derive(Debug, clap::Args)]
pub struct S3ServerArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9000")]
    pub listen: std::net::SocketAddr,
    /// Directory of the objects (one directory per bucket)
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// A bucket to make at start when missing (repeatable)
    #[arg(long = "bucket", value_name = "NAME")]
    pub buckets: Vec<String>,
    /// Copy the buckets' objects from the S3-compatible server at URL into
    /// ROOT, then exit (how `infra up` moves a stack's photos out of moto)
    #[arg(long, value_name = "URL")]
    pub import_from: Option<String>,
}

/// Runs `photoscale s3-server`: the import, or the server.
pub async fn run(args: S3ServerArgs) -> anyhow::Result<()> {
    let _logs = crate::telemetry::init(crate::configuration::LogFormat::Text, "info");
    if let Some(source) = &args.import_from {
        return import(source, &args.root, &args.buckets).await;
    }
    let (access_key, secret_key) = S3ServerOptions::keys_from_environment()?;
    serve(S3ServerOptions {
        listen: args.listen,
        root: args.root,
        buckets: args.buckets,
        access_key,
        secret_key,
    })
    .await
}

/// The environment variables that carry the key pair: never on the
/// command line, where `ps` shows it to everyone.
pub const ACCESS_KEY_VARIABLE: &str = "PHOTOSCALE_S3_ACCESS_KEY_ID";
pub const SECRET_KEY_VARIABLE: &str = "PHOTOSCALE_S3_SECRET_ACCESS_KEY";

pub struct S3ServerOptions {
    pub listen: SocketAddr,
    /// Where the objects are kept (one directory per bucket).
    pub root: PathBuf,
    /// Buckets made at start when missing.
    pub buckets: Vec<String>,
    pub access_key: String,
    pub secret_key: SecretString,
}

impl S3ServerOptions {
    /// The key pair from the environment, with a message that says which
    /// variable is missing.
    pub fn keys_from_environment() -> anyhow::Result<(String, SecretString)> {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .with_context(|| {
                    format!("{name} is not set\n  fix: set {ACCESS_KEY_VARIABLE} and {SECRET_KEY_VARIABLE}: every request must be signed with them")
                })
        };
        Ok((
            read(ACCESS_KEY_VARIABLE)?,
            SecretString::from(read(SECRET_KEY_VARIABLE)?),
        ))
    }
}

/// Copies every object of `buckets` from the S3-compatible server at
/// `source` into the directory under `root`, then returns.
pub async fn import(source: &str, root: &Path, buckets: &[String]) -> anyhow::Result<()> {
    let objects = Store::open(root, buckets)?;
    for bucket in buckets {
        let copied = import::import_bucket(source, bucket, &objects).await?;
        println!("{bucket}: {copied} objects copied from {source}");
    }
    Ok(())
}

/// Serves until SIGTERM or Ctrl-C, then lets requests under way finish
/// (up to 10 s).
pub async fn serve(options: S3ServerOptions) -> anyhow::Result<()> {
    let state = web::Data::new(ServerState {
        store: Store::open(&options.root, &options.buckets)?,
        access_key: options.access_key,
        secret_key: options.secret_key,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(routes::handle))
    })
    .shutdown_timeout(10)
    .bind(options.listen)
    .with_context(|| {
        format!(
            "cannot listen on {}; fix: is another server using it?",
            options.listen
        )
    })?;
    tracing::info!(
        address = %options.listen,
        root = %options.root.display(),
        "the S3 server is listening on http://{}",
        options.listen
    );
    server.run().await?;
    Ok(())
}
